import Caching
import Foundation

extension ModelCache where Model == Encoder {
    /// A cache of the model in `modelDirectory` (int8 when `quantized`), reporting the encoder's
    /// mapped and resident weight bytes.
    public convenience init(modelDirectory: URL, quantized: Bool = false,
                            ttl: Duration = .seconds(600), options: EncoderOptions = EncoderOptions()) {
        self.init(ttl: ttl, measure: { ($0.bytesMapped, $0.bytesResident()) }) {
            quantized ? try Encoder(quantizedModelDirectory: modelDirectory, options: options)
                      : try Encoder(modelDirectory: modelDirectory, options: options)
        }
    }

    /// The encoder, loading it if needed.
    public func encoder(now: ContinuousClock.Instant = .now) throws -> Encoder { try model(now: now) }

    /// Embeds `texts` with the cached encoder.
    public func embed(_ texts: [String]) throws -> [EmbeddingResult] {
        try encoder().embed(texts)
    }
}
