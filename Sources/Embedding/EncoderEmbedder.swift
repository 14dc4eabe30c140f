import CodeSageCore
import Foundation
import Platform

/// The real model: all-MiniLM-L6-v2 (or any BERT sentence-transformer folder) through `Encoder`.
public final class EncoderEmbedder: TextEmbedder {
    public let encoder: Encoder
    public let identity: String
    public var dimension: Int { encoder.config.hiddenSize }
    public var maxTokens: Int { encoder.config.maxSeqLength }

    /// Wraps `encoder` loaded from `modelDirectory`; the identity digests the folder's config.json
    /// and model.safetensors, so replaced weights invalidate cached vectors.
    public init(encoder: Encoder, modelDirectory: String) throws(CodeSageError) {
        self.encoder = encoder
        let folder = URL(fileURLWithPath: modelDirectory)
        let weights = try MappedFile(path: folder.appendingPathComponent("model.safetensors").path)
        // Hashed in place: copying the mapped weights into an array would add their whole size to the heap.
        let digest = ContentHash.of(UnsafeRawBufferPointer(start: weights.base, count: weights.size))
        identity = "\(folder.lastPathComponent)/\(encoder.isQuantized ? "int8" : "fp32")/\(ContentHash.hex(digest).prefix(16))"
    }

    public func countTokens(_ text: Substring) -> Int {
        encoder.tokenizer.tokenCount(String(text))
    }

    public func embed(_ texts: [String]) throws(CodeSageError) -> [[Float]] {
        encoder.embed(texts).map(\.embedding)
    }
}
