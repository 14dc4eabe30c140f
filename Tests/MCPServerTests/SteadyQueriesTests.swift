import Embedding
import Foundation
import Platform
import Search
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import CodeSageService
@testable import MCPServer

/// The pools at work: a steady stream of distinct queries of one shape, with the search and
/// embedding caches off so that every query embeds and searches.
@Suite("Steady queries", .serialized)
struct SteadyQueriesTests {
    static let words = ["print", "socket", "options", "settings", "address", "read", "words", "load", "join", "split",
                        "path", "error", "text", "open", "command", "line", "network", "file", "list", "value"]

    /// The i-th query: four words of one word piece each ([CLS] + 4 + [SEP] for the real model), different for every i < 20⁴.
    static func query(_ i: Int) -> String {
        (0..<4).map { words[(i / Int(pow(20.0, Double($0)))) % 20] }.joined(separator: " ")
    }

    static func configuration() throws -> Configuration {
        var environment = ProcessInfo.processInfo.environment.filter { $0.key == "CODESAGE_MODEL_PATH" }
        environment["CODESAGE_SEARCH_CACHE_SIZE"] = "0"
        environment["CODESAGE_EMBEDDING_CACHE_SIZE"] = "0"
        environment["CODESAGE_ENABLE_MEMORY_MONITORING"] = "false"
        environment["CODESAGE_ADAPTIVE_MEMORY_ENABLED"] = "false"
        return try Configuration(environment: environment, home: NSHomeDirectory(), onlineCPUs: 2)
    }

    @Test("10,000 distinct queries through FAISS and SQLite: RSS after all stays within 2 MiB of RSS after the first 1,000; result buffers come from the pool")
    func steadySearchRSS() throws {
        let workspace = Workspace(configuration: try Self.configuration()) { () throws(CodeSageError) in SlowWordEmbedder(delay: 0) }
        let root = try CodeToolsTests.makeRepository()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try Indexer(layout: try workspace.layout(root: root), embedder: try workspace.model()).run()
        var afterFirst: UInt64 = 0
        for i in 0..<10_000 {
            let found = try workspace.search(SearchRequest(query: Self.query(i), mode: .semantic, limit: 10), root: root)
            #expect(found.cache == .miss)
            if i == 999 {
                ProcessMemory.releaseFreedMemory()
                afterFirst = try ProcessMemory.read().rss
            }
        }
        ProcessMemory.releaseFreedMemory()
        let afterAll = try ProcessMemory.read().rss
        #expect(afterAll <= afterFirst + 2 << 20, "RSS grew from \(afterFirst) to \(afterAll) bytes")
        let results = workspace.indexPool.statistics()
        #expect(results.reuses >= 10_000 && results.allocations == 0, "\(results)")
    }

    @Test("the real encoder embeds same-shape queries in its pooled scratch: no allocation, RSS flat (100 queries: a debug build is slow)")
    func encoderScratchPool() throws {
        let configuration = try Self.configuration()
        let encoder = try Encoder(modelDirectory: URL(fileURLWithPath: configuration.modelPath),
                                  options: EncoderOptions(threads: 1, scratchPoolSize: configuration.embeddingPoolSize))
        #expect(Set((0..<50).map { encoder.tokenize(Self.query($0 * 997)).ids.count }) == [6])
        #expect(encoder.scratchPool.statistics().idle == configuration.embeddingPoolSize)
        var afterFirst: UInt64 = 0
        for i in 0..<100 {
            _ = encoder.embed([Self.query(i)])
            if i == 24 {
                ProcessMemory.releaseFreedMemory()
                afterFirst = try ProcessMemory.read().rss
            }
        }
        ProcessMemory.releaseFreedMemory()
        let afterAll = try ProcessMemory.read().rss
        #expect(afterAll <= afterFirst + 1 << 20, "RSS grew from \(afterFirst) to \(afterAll) bytes")
        let scratch = encoder.scratchPool.statistics()
        #expect(scratch.reuses == 100 && scratch.allocations == 0, "\(scratch)")
        // A long batch borrows a larger block once; a batch over the retained size is not kept.
        _ = encoder.embed([String(repeating: "word ", count: 200)])
        _ = encoder.embed([String(repeating: "word ", count: 200)])
        #expect(encoder.scratchPool.statistics().allocations == 1)
    }
}
