import Foundation
import Testing

/// Runs the built `codesage` binary as a process: what a user or CI sees.
enum CodeSageBinary {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let path = root.appendingPathComponent(".build/debug/codesage").path

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs with `arguments`, `environment` added to a minimal one, and `input` on stdin.
    static func run(_ arguments: [String], environment: [String: String] = [:], input: Data = Data()) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = root
        var env = ["HOME": NSHomeDirectory(), "PATH": "/usr/bin:/bin"]
        if let model = ProcessInfo.processInfo.environment["CODESAGE_MODEL_PATH"] { env["CODESAGE_MODEL_PATH"] = model }
        env.merge(environment) { $1 }
        process.environment = env
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Drain both pipes on their own threads so a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data(), err = Data()
        DispatchQueue.global().async(group: group) { out = stdout.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                       stderr: String(decoding: err, as: UTF8.self))
    }
}

@Suite("codesage command line", .serialized)
struct CLITests {
    @Test("config --json lists every setting with value and source; profiles and flags are sources")
    func configJSON() throws {
        let outcome = try CodeSageBinary.run(["config", "--json", "--env-file", "config/memory-constrained.env", "--log-level", "error"],
                                             environment: ["CODESAGE_MEMORY_LIMIT": "300MB"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let rows = try #require(object?["settings"] as? [[String: String]])
        let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"]!, $0) })
        #expect(rows.count >= 30)
        #expect(byName["CODESAGE_MEMORY_LIMIT"]?["value"] == "300MB")
        #expect(byName["CODESAGE_MEMORY_LIMIT"]?["source"] == "environment")
        #expect(byName["CODESAGE_LOG_LEVEL"]?["source"] == "flag")
        #expect(byName["CODESAGE_ENABLE_MODEL_QUANTIZATION"]?["source"] == "file:config/memory-constrained.env")
        #expect(byName["CODESAGE_SEARCH_CACHE_SIMILARITY"]?["source"] == "default")
    }

    @Test("an invalid value stops every command with one line and exit code 78",
          arguments: [["config"], ["config", "--json"], ["index", "."], ["serve"], ["embed"], ["supervise", "--socket-dir", "/tmp/x"]])
    func invalidValue(arguments: [String]) throws {
        for (name, value) in [("CODESAGE_MEMORY_LIMIT", "lots"), ("CODESAGE_PARALLEL_WORKERS", "0"), ("CODESAGE_NUMA_NODE", "-3")] {
            let outcome = try CodeSageBinary.run(arguments, environment: [name: value])
            #expect(outcome.status == 78, "\(arguments) with \(name)=\(value): \(outcome.status)")
            let lines = outcome.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(outcome.stderr)")
            #expect(lines.first?.contains(name) == true && lines.first?.contains("\"\(value)\"") == true)
            #expect(outcome.stdout.isEmpty)
        }
    }

    @Test("a missing or malformed profile is a clear error")
    func badProfile() throws {
        let missing = try CodeSageBinary.run(["config", "--env-file", "/nonexistent/p.env"])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("/nonexistent/p.env"))
    }

    @Test("supervise and status refuse bad input with a clear line and their exit codes")
    func superviseErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let none = try CodeSageBinary.run(["status", "--socket-dir", folder])
        #expect(none.status == 66 && none.stderr.contains("no supervisor is running"), "\(none.stderr)")
        let badLimit = try CodeSageBinary.run(["supervise", "--path", folder, "--socket-dir", folder + "/s", "--hard-limit", "lots"])
        #expect(badLimit.status == 64 && badLimit.stderr.contains("--hard-limit lots"), "\(badLimit.stderr)")
        let noRoot = try CodeSageBinary.run(["supervise", "--path", folder + "/missing", "--socket-dir", folder + "/s"])
        #expect(noRoot.status == 66, "\(noRoot.stderr)")
    }

    @Test("index --json reports what it did; search --json returns ranked results with lines; a re-run only stats")
    func indexAndSearch() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-cli-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/pkg", withIntermediateDirectories: true)
        try "def parse_arguments(argv):\n    options = {}\n    for word in argv:\n        options[word] = True\n    return options\n"
            .write(toFile: root + "/pkg/cli.py", atomically: true, encoding: .utf8)
        try "package net\n\nfunc OpenSocket(address string) error {\n\treturn dial(address)\n}\n"
            .write(toFile: root + "/pkg/net.go", atomically: true, encoding: .utf8)

        let index = try CodeSageBinary.run(["index", root, "--json"])
        #expect(index.status == 0, "\(index.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(index.stdout.utf8)) as? [String: Any])
        for key in ["files", "chunks", "embedded", "reused", "skipped", "deleted", "seconds", "index_type", "recall_at_10"] {
            #expect(report[key] != nil, "missing \(key)")
        }
        #expect(report["files"] as? Int == 2 && report["index_type"] as? String == "IVF1,Flat" && report["recall_at_10"] as? Double == 1)

        let search = try CodeSageBinary.run(["search", "--path", root, "--json", "--limit", "3", "parse command line arguments"])
        #expect(search.status == 0, "\(search.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [[String: Any]])
        let top = try #require(results.first)
        #expect(top["path"] as? String == "pkg/cli.py" && top["start_line"] as? Int == 1 && top["end_line"] as? Int == 5)
        #expect(top["symbol"] as? String == "parse_arguments" && top["language"] as? String == "python" && top["stale"] as? Bool == false)
        #expect(top["score"] is Double && (top["snippet"] as? String)?.hasPrefix("def parse_arguments") == true)

        let semantic = try CodeSageBinary.run(["search", "--path", root, "--json", "--mode", "semantic", "open a network connection"])
        #expect((try JSONSerialization.jsonObject(with: Data(semantic.stdout.utf8)) as? [[String: Any]])?.first?["path"] as? String == "pkg/net.go")

        let again = try CodeSageBinary.run(["index", root, "--json"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(second["skipped"] as? Int == 2 && second["embedded"] as? Int == 0)
    }

    @Test("a cold index answers keyword search before it is embedded; the report says when, and how coverage grew")
    func lexicalFirst() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-cli-cold-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/pkg", withIntermediateDirectories: true)
        for i in 0..<12 {
            try "def handler_\(i)(request):\n    \"\"\"Answer request \(i).\"\"\"\n    return request.reply(\(i))\n"
                .write(toFile: root + "/pkg/m\(i).py", atomically: true, encoding: .utf8)
        }
        // With a threshold of one chunk, this small tree goes the way a large one goes by default.
        let index = try CodeSageBinary.run(["index", root, "--json"],
                                           environment: ["CODESAGE_INDEX_LEXICAL_FIRST_CHUNKS": "1", "CODESAGE_LOG_LEVEL": "info"])
        #expect(index.status == 0, "\(index.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(index.stdout.utf8)) as? [String: Any])
        #expect(report["lexical_seconds"] is Double && (report["embedding_publications"] as? Int ?? 0) >= 1, "\(report)")
        #expect(report["semantic_coverage"] as? Double == 1 && report["compacted"] as? Bool == true && report["index_type"] as? String == "IVF1,Flat")
        #expect(index.stderr.contains("published for keyword search"), "\(index.stderr)")
        let check = try CodeSageBinary.run(["check", root])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let search = try CodeSageBinary.run(["search", "--path", root, "--json", "--mode", "semantic", "--limit", "1", "handler_7 request 7"])
        #expect((try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [[String: Any]])?.first?["path"] as? String == "pkg/m7.py",
                "\(search.stdout)")
    }

    @Test("index --watch: the first run, then a saved file reaches the index on its own; SIGTERM stops it with 0")
    func indexWatch() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-cli-watch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "def first_function():\n    return 1\n".write(toFile: root + "/a.py", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CodeSageBinary.path)
        process.arguments = ["index", "--watch", root]
        var environment = ["HOME": NSHomeDirectory(), "PATH": "/usr/bin:/bin", "CODESAGE_WATCH_DEBOUNCE_MS": "50"]
        if let model = ProcessInfo.processInfo.environment["CODESAGE_MODEL_PATH"] { environment["CODESAGE_MODEL_PATH"] = model }
        process.environment = environment
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func generation() -> Int? {
            guard let data = FileManager.default.contents(atPath: root + "/.codesage/manifest.json"),
                  let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return manifest["generation"] as? Int
        }
        func waitFor(_ wanted: Int) -> Bool {
            let end = Date().addingTimeInterval(120)
            while Date() < end { if generation() == wanted { return true }; Thread.sleep(forTimeInterval: 0.02) }
            return false
        }
        #expect(waitFor(1), "the first run published generation 1")
        try "def second_function():\n    return 2\n".write(toFile: root + "/b.py", atomically: true, encoding: .utf8)
        #expect(waitFor(2), "the new file was indexed without a command")
        process.terminate()
        process.waitUntilExit()
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("watching") && log.contains("generation 2"), "\(log)")
        #expect(try CodeSageBinary.run(["index", "--watch", "--json", root]).status == 64, "--watch and --json do not combine")
    }

    @Test("search refuses an unindexed root, a bad mode and an empty query clearly")
    func searchErrors() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let unindexed = try CodeSageBinary.run(["search", "--path", root, "anything"])
        #expect(unindexed.status == 66 && unindexed.stderr.contains("no index"))
        let badMode = try CodeSageBinary.run(["search", "--path", root, "--mode", "fuzzy", "anything"])
        #expect(badMode.status == 64 && badMode.stderr.contains("--mode"))
        let missing = try CodeSageBinary.run(["index", root + "/nope"])
        #expect(missing.status == 66)
    }

    @Test("embed answers every awkward input in order: empty, spaces, emoji, lone surrogates, 1 MB")
    func embedEdgeCases() throws {
        let huge = String(repeating: "word ", count: 200_000)
        // Raw JSON text: the lone surrogates must reach the parser as \u escapes.
        let items = [#""""#, #""   \t\n""#, #""👍🏽 ok""#, #""\ud800 lone \udc00""#, #""parse command line arguments""#, "\"" + huge + "\""]
        let input = "[" + items.joined(separator: ",") + "]"
        let outcome = try CodeSageBinary.run(["embed"], input: Data(input.utf8))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        #expect(results.count == 6)
        let ids = results.map { ($0["input_ids"] as? [Int]) ?? [] }
        #expect(ids[0] == [101, 102])
        #expect(ids[1] == [101, 102])
        #expect(ids[4] == [101, 11968, 3366, 3094, 2240, 9918, 102], "the golden ids of this query")
        #expect(ids[5].count == 256)
        #expect(results[5]["truncated"] as? Bool == true)
        for result in results {
            let embedding = (result["embedding"] as? [Double]) ?? []
            #expect(embedding.count == 384)
            let norm = embedding.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-3)
        }
    }

    @Test("embed rejects input that is not a JSON array of strings")
    func embedBadInput() throws {
        for bad in ["{", "{\"a\": 1}", "[1, 2]"] {
            let outcome = try CodeSageBinary.run(["embed"], input: Data(bad.utf8))
            #expect(outcome.status == 64, "\(bad): \(outcome.status) \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty)
        }
    }

    @Test("serve over stdio: stdout carries only JSON-RPC")
    func serveStdio() throws {
        let requests = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#,
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_configuration","arguments":{"name":"CODESAGE_LOG_LEVEL"}}}"#,
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CodeSageBinary.path)
        process.arguments = ["serve"]
        process.environment = ["HOME": NSHomeDirectory(), "PATH": "/usr/bin:/bin"]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data((requests.joined(separator: "\n") + "\n").utf8))
        // Keep stdin open until all three answers arrive (closing it early may drop replies in flight).
        var lines: [String] = []
        var buffer = Data()
        let reader = stdout.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        while lines.count < 3, Date() < deadline {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer = Data(buffer[buffer.index(after: newline)...])
            }
        }
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        #expect(lines.count == 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["jsonrpc"] as? String == "2.0", "not JSON-RPC: \(line)")
        }
        #expect(lines.contains { $0.contains("get_configuration") && $0.contains("inputSchema") })
        #expect(lines.contains { $0.contains("CODESAGE_LOG_LEVEL=info (default)") })
    }
}
