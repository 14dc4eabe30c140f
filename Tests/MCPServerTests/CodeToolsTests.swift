import Embedding
import Foundation
import MCP
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import CodeSageService
@testable import MCPServer

/// The code tools end to end through the SDK's client, on a small repository, with the real model.
@Suite("Code tools over the swift-sdk client", .serialized)
struct CodeToolsTests {
    static func makeRepository() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-tools-\(UUID().uuidString)").path
        let files: [String: String] = [
            "pkg/cli.py": "import os\nimport requests\n\n\ndef parse_arguments(argv):\n    \"\"\"Turn argv into options.\"\"\"\n    options = {}\n    for word in argv:\n        options[word] = True\n    return options\n\n\ndef load_settings(path):\n    return open(path).read()\n",
            "pkg/net.go": "package net\n\nimport \"github.com/spf13/cobra\"\n\n// OpenSocket dials an address.\nfunc OpenSocket(address string) error {\n\treturn dial(address)\n}\n",
            "lib/copy_a.py": "def normalise_whitespace(text):\n    words = text.split()\n    return ' '.join(words)\n",
            "lib/copy_b.py": "def normalise_whitespace(text):\n    words = text.split()\n    return ' '.join(words)\n",
        ]
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try "secret\n".write(toFile: root + "/../codesage-outside-\(UUID().uuidString).txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "/etc")
        return root
    }

    static func text(_ result: (content: [Tool.Content], isError: Bool?)) -> String {
        guard case .text(let text, _, _)? = result.content.first else { return "" }
        return text
    }

    @Test("index, search in every mode, read, outline, count, dependencies, undocumented, duplicates; bad input is an isError result")
    func tools() async throws {
        let configuration = try Configuration(environment: ProcessInfo.processInfo.environment.filter { $0.key == "CODESAGE_MODEL_PATH" },
                                              home: NSHomeDirectory(), onlineCPUs: 2)
        let workspace = Workspace(configuration: configuration) { () throws(CodeSageError) in
            do {
                let encoder = try Encoder(modelDirectory: URL(fileURLWithPath: configuration.modelPath))
                return try EncoderEmbedder(encoder: encoder, modelDirectory: configuration.modelPath)
            } catch let error as CodeSageError { throw error } catch { throw CodeSageError(.internal, "\(error)") }
        }
        let root = try Self.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = await CodeSageServer.make(table: CodeToolTable.make(workspace: workspace))
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverTransport)
        let client = Client(name: "test", version: "1")
        _ = try await client.connect(transport: clientTransport)

        let names = Set(try await client.listTools().tools.map(\.name))
        #expect(names.isSuperset(of: ["index_codebase", "semantic_search_codebase", "search_codebase", "find_duplicate_code", "read_code_file",
                                      "get_file_structure", "list_undocumented_functions", "count_lines_of_code", "get_dependencies_overview", "get_configuration"]))

        // Searching before indexing says what to do.
        let early = try await client.callTool(name: "semantic_search_codebase", arguments: ["path": .string(root), "query": "parse arguments"])
        #expect(early.isError == true && Self.text(early).contains("codesage index"))

        let indexed = try await client.callTool(name: "index_codebase", arguments: ["path": .string(root)])
        #expect(indexed.isError == false, "\(Self.text(indexed))")
        #expect(Self.text(indexed).contains("4 files") && Self.text(indexed).contains("generation 1"))

        let semantic = try await client.callTool(name: "semantic_search_codebase", arguments: ["path": .string(root), "query": "turn command line words into options"])
        #expect(Self.text(semantic).hasPrefix("1. pkg/cli.py:5-10 parse_arguments"), "\(Self.text(semantic))")
        let hybrid = try await client.callTool(name: "search_codebase", arguments: ["path": .string(root), "query": "OpenSocket", "mode": "keyword", "file_types": ["go"]])
        #expect(Self.text(hybrid).hasPrefix("1. pkg/net.go:5-8 OpenSocket"), "\(Self.text(hybrid))")
        let regex = try await client.callTool(name: "search_codebase", arguments: ["path": .string(root), "query": "return\\s+dial", "mode": "regex", "context_lines": 1])
        #expect(Self.text(regex).hasPrefix("pkg/net.go:7: \treturn dial(address)"), "\(Self.text(regex))")
        let badRegex = try await client.callTool(name: "search_codebase", arguments: ["path": .string(root), "query": "(", "mode": "regex"])
        #expect(badRegex.isError == true && Self.text(badRegex).contains("regular expression"))
        let badMode = try await client.callTool(name: "search_codebase", arguments: ["path": .string(root), "query": "x", "mode": "fuzzy"])
        #expect(badMode.isError == true && Self.text(badMode).contains("argument \"mode\""))

        let read = try await client.callTool(name: "read_code_file", arguments: ["path": .string(root), "file": "pkg/net.go", "start_line": 6, "end_line": 7])
        #expect(Self.text(read) == "6\tfunc OpenSocket(address string) error {\n7\t\treturn dial(address)")
        for hostile in ["../" + "x.txt", "/etc/passwd", "escape/passwd", "pkg/../../x"] {
            let refused = try await client.callTool(name: "read_code_file", arguments: ["path": .string(root), "file": .string(hostile)])
            #expect(refused.isError == true, "\(hostile) was served")
        }

        let outline = try await client.callTool(name: "get_file_structure", arguments: ["path": .string(root), "file": "pkg/cli.py"])
        #expect(Self.text(outline).contains("parse_arguments") && Self.text(outline).contains("load_settings"))
        let lines = try await client.callTool(name: "count_lines_of_code", arguments: ["path": .string(root)])
        #expect(Self.text(lines).contains("python: 3 files") && Self.text(lines).contains("go: 1 files"), "\(Self.text(lines))")
        let deps = try await client.callTool(name: "get_dependencies_overview", arguments: ["path": .string(root)])
        #expect(Self.text(deps).contains("requests") && Self.text(deps).contains("github.com/spf13/cobra") && !Self.text(deps).contains("  os "), "\(Self.text(deps))")
        let undocumented = try await client.callTool(name: "list_undocumented_functions", arguments: ["path": .string(root)])
        #expect(Self.text(undocumented).contains("load_settings") && !Self.text(undocumented).contains("parse_arguments") && !Self.text(undocumented).contains("OpenSocket"))
        let duplicates = try await client.callTool(name: "find_duplicate_code", arguments: ["path": .string(root), "threshold": 0.9])
        #expect(Self.text(duplicates).contains("lib/copy_a.py:1-3") && Self.text(duplicates).contains("lib/copy_b.py:1-3"), "\(Self.text(duplicates))")

        let background = try await client.callTool(name: "index_codebase", arguments: ["path": .string(root), "background": true])
        let jobID = try #require(Self.text(background).split(separator: " ").first.map(String.init))
        #expect(jobID.hasPrefix("index-"))
        var status = Self.text(background)
        for _ in 0..<400 where status.contains(" running") {
            try await Task.sleep(for: .milliseconds(50))
            status = Self.text(try await client.callTool(name: "index_codebase", arguments: ["job_id": .string(jobID)]))
        }
        #expect(status.hasPrefix("\(jobID) done") && status.contains("4 unchanged"), "\(status)")

        await client.disconnect()
        await server.stop()
    }
}
