import Foundation
import MCP
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import CodeSageService
@testable import MCPServer

/// A stand-in model for a test of the server above the model: word-hash vectors, and slow on purpose
/// (each call waits `delay`), so that an index run is still going while other calls arrive.
final class SlowWordEmbedder: TextEmbedder, @unchecked Sendable {
    let identity = "slow-word-hash/test"
    let dimension = 32
    let maxTokens = 256
    let delay: Double
    init(delay: Double) { self.delay = delay }
    func countTokens(_ text: Substring) -> Int { SearchTerms.terms(of: text).count }
    func embed(_ texts: [String]) throws(CodeSageError) -> [[Float]] {
        Thread.sleep(forTimeInterval: delay)
        return texts.map { text in
            var vector = [Float](repeating: 0, count: dimension)
            for term in SearchTerms.terms(of: text) { vector[abs(term.hashValue) % dimension] += 1 }
            let norm = max(vector.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-6)
            return vector.map { $0 / norm }
        }
    }
}

@Suite("Tool calls during a slow index run")
struct ConcurrencyTests {
    @Test("searches answer from the previous generation while index_codebase runs, then from the new one")
    func searchDuringIndexing() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-concurrency-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "def old_function():\n    return 1\n".write(toFile: root + "/a.py", atomically: true, encoding: .utf8)

        let configuration = try Configuration(environment: [:], home: "/h", onlineCPUs: 2)
        let embedder = SlowWordEmbedder(delay: 2.0)
        let workspace = Workspace(configuration: configuration) { () throws(CodeSageError) in embedder }
        let table = CodeToolTable.make(workspace: workspace)
        func call(_ name: String, _ arguments: [String: Value]) async -> (text: String, isError: Bool) {
            let result = await table.call(.init(name: name, arguments: arguments))
            guard case .text(let text, _, _)? = result.content.first else { return ("", result.isError == true) }
            return (text, result.isError == true)
        }

        #expect(await call("index_codebase", ["path": .string(root)]).text.contains("generation 1"))
        for i in 0..<6 {
            try "def new_function_\(i)():\n    return \(i)\n".write(toFile: root + "/n\(i).py", atomically: true, encoding: .utf8)
        }
        let started = await call("index_codebase", ["path": .string(root), "background": true])
        let job = String(started.text.split(separator: " ").first ?? "")

        // While the run embeds (slowly), searches keep answering from generation 1.
        let during = ContinuousClock.now
        let old = await call("search_codebase", ["path": .string(root), "query": "old_function", "mode": "keyword"])
        let fresh = await call("search_codebase", ["path": .string(root), "query": "new_function_3", "mode": "keyword"])
        let waited = ContinuousClock.now - during
        #expect(old.text.hasPrefix("1. a.py:1-2 old_function"), "\(old.text)")
        #expect(!fresh.text.contains("n3.py"), "\(fresh.text)")
        #expect(await call("index_codebase", ["job_id": .string(job)]).text.contains(" running"), "the run should still be going")
        #expect(waited < .seconds(2), "searches must not wait for the index run (\(waited))")

        var status = ""
        for _ in 0..<200 where !status.contains(" done") {
            try await Task.sleep(for: .milliseconds(100))
            status = await call("index_codebase", ["job_id": .string(job)]).text
        }
        #expect(status.contains("generation 2"), "\(status)")
        #expect(await call("search_codebase", ["path": .string(root), "query": "new_function_3", "mode": "keyword"]).text.hasPrefix("1. n3.py"))
    }
}
