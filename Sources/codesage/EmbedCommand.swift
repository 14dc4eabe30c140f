import ArgumentParser
import CodeSageCore
import CodeSageService
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
            let encoder = try ModelLoading.encoder(configuration)
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
            let tokenizer = try ModelLoading.tokenizer(modelPath: configuration.modelPath)
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
