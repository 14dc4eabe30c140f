import CIPC
import CodeSageCore
import Embedding
import Foundation
import SourceModel
import Logging
import MCP
import MCPServer
import NIOCore
import NIOEmbedded
import NIOHTTP1

/// The fuzz targets: each takes arbitrary bytes and must neither crash nor break its invariant.
/// libFuzzer calls `LLVMFuzzerTestOneInput` with the target named by CODESAGE_FUZZ_TARGET; the replay
/// runner (main.swift, normal builds) feeds corpus files through the same functions.
enum FuzzTargets {
    static let names = ["tokenizer", "request", "gitignore", "safetensors", "control-block"]

    /// Runs target `name` on `data`; false when the name is unknown.
    static func run(_ name: String, _ data: [UInt8]) -> Bool {
        switch name {
        case "tokenizer": tokenizer(data)
        case "request": request(data)
        case "gitignore": gitignore(data)
        case "safetensors": safetensors(data)
        case "control-block": controlBlock(data)
        default: return false
        }
        return true
    }

    /// Stops the process with a message, so libFuzzer records the input as a crash.
    static func violated(_ what: String) -> Never {
        FileHandle.standardError.write(Data("fuzz invariant violated: \(what)\n".utf8))
        abort()
    }

    // MARK: tokenizer

    static let bert: BertTokenizer = {
        let folder = ProcessInfo.processInfo.environment["CODESAGE_MODEL_PATH"]
            ?? NSHomeDirectory() + "/.cache/codesage/models/all-MiniLM-L6-v2"
        do { return try BertTokenizer(vocabURL: URL(fileURLWithPath: folder + "/vocab.txt")) } catch {
            violated("cannot load the vocabulary from \(folder) (run scripts/setup): \(error)")
        }
    }()

    /// Any bytes (invalid UTF-8 repaired as the server does): [CLS] … [SEP], at most 256 ids, all in the vocabulary.
    static func tokenizer(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        for maxLength in [256, 8] {
            let tokens = bert.encode(text, maxLength: maxLength)
            guard tokens.ids.count >= 2, tokens.ids.count <= maxLength, tokens.ids.first == bert.clsID, tokens.ids.last == bert.sepID,
                  tokens.ids.allSatisfy({ $0 >= 0 && Int($0) < bert.vocabularySize }) else {
                violated("tokenizer: \(tokens.ids.count) ids for maxLength \(maxLength)")
            }
        }
    }

    // MARK: JSON-RPC and HTTP request path

    static let secret = "fuzz-\(UUID().uuidString)"
    static let dispatcher = JSONRPCDispatcher(table: ToolTable([]))

    /// The bytes as a JSON-RPC body (the dispatcher's envelope decoding and revision checks, MCP message
    /// decoding, tool-argument checks), then as raw bytes into NIO's HTTP decoder and the server's request
    /// handler. The handler has a bearer token nobody can guess, so no request reaches the dispatcher's
    /// tasks (which would outlive the input).
    static func request(_ data: [UInt8]) {
        let body = Data(data)
        if let message = try? JSONDecoder().decode(Incoming.self, from: body) {
            _ = ProtocolRevision.of(message, headers: ["mcp-protocol-version": "2026-07-28", "mcp-method": message.method ?? ""])
        }
        if let call = try? JSONDecoder().decode(Request<CallTool>.self, from: body) {
            let args = ToolArguments(call.params.arguments ?? [:], tool: call.params.name)
            _ = try? args.rejectUnknown(allowed: ["path", "file", "query", "limit", "start_line", "end_line"])
            _ = try? args.requiredString("path")
            _ = try? args.integer("limit", in: 1...1_000)
            _ = try? args.integer("start_line", in: 1...10_000_000)
        }
        _ = try? JSONDecoder().decode(Request<ListTools>.self, from: body)

        let channel = EmbeddedChannel()
        do {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(
                dispatcher: dispatcher, activity: HTTPActivity(), maxBodyBytes: 4096, authToken: secret, metricsText: { "" }))
            var buffer = channel.allocator.buffer(capacity: data.count)
            buffer.writeBytes(data)
            try channel.writeInbound(buffer)
            while let _ = try channel.readOutbound(as: ByteBuffer.self) {}
        } catch {
            // A malformed request is an error of NIO's decoder: the connection would be closed. Fine.
        }
        _ = try? channel.finish()
    }

    // MARK: .gitignore

    /// `pattern-lines NUL path`: parsing and matching never crash, and a rule set of one pattern agrees
    /// with the pattern.
    static func gitignore(_ data: [UInt8]) {
        let split = data.firstIndex(of: 0) ?? data.endIndex
        let patterns = String(decoding: data[..<split], as: UTF8.self)
        let path = String(decoding: data[min(split + 1, data.endIndex)...], as: UTF8.self)
        let isDirectory = data.count % 2 == 0
        var rules = IgnoreRules()
        rules.add(patterns, directory: "")
        _ = rules.isIgnored(path, isDirectory: isDirectory)
        rules.add(patterns, directory: "sub/dir")
        _ = rules.verdict(for: "sub/dir/" + path, isDirectory: isDirectory)
        for line in patterns.split(separator: "\n").prefix(4) {
            _ = IgnorePattern(line: line)?.matches(path, isDirectory: isDirectory)
        }
    }

    // MARK: safetensors

    static let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-fuzz-\(getpid()).safetensors")

    /// Any file: parsed or refused with an error; every tensor it accepts lies inside the file.
    static func safetensors(_ data: [UInt8]) {
        guard FileManager.default.createFile(atPath: scratch.path, contents: Data(data)) else { violated("cannot write \(scratch.path)") }
        defer { try? FileManager.default.removeItem(at: scratch) }
        guard let file = try? SafetensorsFile(url: scratch) else { return }
        for tensor in file.tensors.values where tensor.byteRange.upperBound > data.count || tensor.byteRange.lowerBound < 8 {
            violated("safetensors: tensor \(tensor.name) at \(tensor.byteRange) outside a \(data.count)-byte file")
        }
    }

    // MARK: control block

    /// Any bytes as a mapped block: validation returns a code, and a block it accepts can be read whole.
    static func controlBlock(_ data: [UInt8]) {
        let size = data.count
        let base = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 64)
        defer { base.deallocate() }
        data.withUnsafeBytes { if let source = $0.baseAddress { base.copyMemory(from: source, byteCount: size) } }
        let status = cs_cb_validate(base, size, 0, 0)
        guard status >= 0, status <= Int32(CS_CB_TICKS_MISMATCH) else { violated("control block: validate returned \(status)") }
        guard status == Int32(CS_CB_OK) else { return }
        var config = cs_cb_config_values()
        _ = cs_cb_config_read(base, &config, 4)
        var slot = cs_cb_slot_values()
        let count = cs_cb_max_workers(base)  // validated against the mapping's size just above
        for index in 0..<count { cs_cb_slot_read(base, count, index, &slot) }
    }
}

/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let target = ProcessInfo.processInfo.environment["CODESAGE_FUZZ_TARGET"] ?? ""
    let data = bytes.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    if !FuzzTargets.run(target, data) { FuzzTargets.violated("CODESAGE_FUZZ_TARGET must be one of \(FuzzTargets.names)") }
    return 0
}

// In a libFuzzer build, main hands over to libFuzzer's driver (kept in this file: referencing the
// @_cdecl entry point from another file defined it twice). ReplayMain.swift has the other main.
#if CODESAGE_FUZZ
/// libFuzzer's driver: parses libFuzzer's flags and calls `callback` with each input.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, LLVMFuzzerTestOneInput))
    }
}
#endif
