import ArgumentParser
import CodeSageCore
import Embedding
import Foundation
import Platform

/// `codesage embed`: token ids and embeddings of a JSON array of strings, in input order.
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed a JSON array of strings from stdin; writes [{\"input_ids\": [...], \"embedding\": [...]}] on stdout.")

    @OptionGroup var global: GlobalOptions
    @Flag(name: .long, help: "Use int8 weights (written once beside the model, then mapped).") var quantized = false
    @Option(name: .long, help: "Model folder (overrides CODESAGE_MODEL_PATH).") var model: String?

    func run() async throws {
        try await CLI.run {
            var flags: [String: String] = [:]
            if let model { flags[SettingCatalog.Name.modelPath] = model }
            if quantized { flags[SettingCatalog.Name.modelQuantization] = "true" }
            let configuration = try global.loadConfiguration(flags: flags)
            let texts = try JSONTextList.texts(from: FileHandle.standardInput.readDataToEndOfFile())
            let encoder = try EncoderLoader.load(configuration)
            let results = encoder.embed(texts)
            let truncated = results.filter(\.truncated).count
            if truncated > 0 { CLI.logger.info("\(truncated) of \(results.count) inputs were truncated to \(encoder.config.maxSeqLength) tokens") }
            var out = "["
            out.reserveCapacity(results.count * 4_200)
            for (index, result) in results.enumerated() {
                out += (index == 0 ? "" : ",\n") + idsJSON(result.ids, truncated: result.truncated)
                out += ",\"embedding\":[" + result.embedding.map { "\($0)" }.joined(separator: ",") + "]}"
            }
            out += "]\n"
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}

/// `codesage tokenize` (hidden): token ids only, for cross-checking the tokenizer against the reference.
struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize", abstract: "Token ids of a JSON array of strings (a developer tool).", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Model folder (overrides CODESAGE_MODEL_PATH).") var model: String?

    func run() async throws {
        try await CLI.run {
            var flags: [String: String] = [:]
            if let model { flags[SettingCatalog.Name.modelPath] = model }
            let configuration = try global.loadConfiguration(flags: flags)
            let tokenizer = try EncoderLoader.wrap {
                try BertTokenizer(vocabURL: URL(fileURLWithPath: configuration.modelPath).appendingPathComponent("vocab.txt"))
            }
            let texts = try JSONTextList.texts(from: FileHandle.standardInput.readDataToEndOfFile())
            var out = "["
            for (index, text) in texts.enumerated() {
                let encoded = tokenizer.encode(text)
                out += (index == 0 ? "" : ",") + idsJSON(encoded.ids, truncated: encoded.truncated) + "}"
            }
            out += "]\n"
            FileHandle.standardOutput.write(Data(out.utf8))
        }
    }
}

/// The start of one output object, without its closing brace: `{"input_ids":[…],"truncated":…`.
func idsJSON(_ ids: [Int32], truncated: Bool) -> String {
    "{\"input_ids\":[" + ids.map(String.init).joined(separator: ",") + "],\"truncated\":\(truncated)"
}

/// Loads the encoder the configuration asks for.
enum EncoderLoader {
    static func load(_ configuration: Configuration) throws(CodeSageError) -> Encoder {
        let folder = URL(fileURLWithPath: configuration.modelPath)
        guard FileSystem.exists(configuration.modelPath + "/config.json") else {
            throw CodeSageError(.notFound, "no model at \(configuration.modelPath) (config.json missing); run scripts/setup or set CODESAGE_MODEL_PATH")
        }
        let options = EncoderOptions(scratchPoolSize: configuration.embeddingPoolSize)
        return try wrap {
            configuration.modelQuantizationEnabled
                ? try Encoder(quantizedModelDirectory: folder, options: options) : try Encoder(modelDirectory: folder, options: options)
        }
    }

    /// Runs `body`; Embedding already throws CodeSageErrors, anything else is a bug.
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
