import CodeSageCore
import Embedding
import Foundation
import Platform

/// Loads the model a configuration names: the one place that turns CODESAGE_MODEL_PATH,
/// CODESAGE_ENABLE_MODEL_QUANTIZATION and CODESAGE_EMBEDDING_POOL_SIZE into an encoder.
/// The CLI, the server, the worker and the benchmarks all load through here.
public enum ModelLoading {
    /// The encoder of `configuration` (int8 weights when quantization is enabled).
    public static func encoder(_ configuration: Configuration) throws(CodeSageError) -> Encoder {
        try encoder(modelPath: configuration.modelPath, quantized: configuration.modelQuantizationEnabled,
                    options: EncoderOptions(scratchPoolSize: configuration.embeddingPoolSize))
    }

    /// The encoder in `modelPath` (a sentence-transformers folder), fp32 or int8.
    public static func encoder(modelPath: String, quantized: Bool, options: EncoderOptions = EncoderOptions()) throws(CodeSageError) -> Encoder {
        guard FileSystem.exists(modelPath + "/config.json") else {
            throw CodeSageError(.notFound, "no model at \(modelPath) (config.json missing); run scripts/setup or set CODESAGE_MODEL_PATH")
        }
        let folder = URL(fileURLWithPath: modelPath)
        return try wrap {
            quantized ? try Encoder(quantizedModelDirectory: folder, options: options) : try Encoder(modelDirectory: folder, options: options)
        }
    }

    /// The model of `configuration` as the text embedder that indexing and search use.
    public static func embedder(_ configuration: Configuration) throws(CodeSageError) -> EncoderEmbedder {
        try EncoderEmbedder(encoder: encoder(configuration), modelDirectory: configuration.modelPath)
    }

    /// The model in `modelPath` as a text embedder.
    public static func embedder(modelPath: String, quantized: Bool) throws(CodeSageError) -> EncoderEmbedder {
        try EncoderEmbedder(encoder: encoder(modelPath: modelPath, quantized: quantized), modelDirectory: modelPath)
    }

    /// The tokenizer of the model in `modelPath` (its vocab.txt).
    public static func tokenizer(modelPath: String) throws(CodeSageError) -> BertTokenizer {
        try wrap { try BertTokenizer(vocabURL: URL(fileURLWithPath: modelPath).appendingPathComponent("vocab.txt")) }
    }

    /// Runs `body`; Embedding throws CodeSageErrors, anything else is a bug.
    static func wrap<T>(_ body: () throws -> T) throws(CodeSageError) -> T {
        do {
            return try body()
        } catch let error as CodeSageError {
            throw error
        } catch {
            throw CodeSageError(.internal, "loading the model failed", cause: error)
        }
    }
}
