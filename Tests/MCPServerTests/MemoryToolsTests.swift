import Foundation
import MCP
import Synchronization
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import CodeSageService
@testable import MCPServer

/// The caches, the model cache and the memory manager seen through the tools, above a fake model
/// (word-hash vectors) that counts its loads and calls.
@Suite("Caches and memory through the tools")
struct MemoryToolsTests {
    final class Counters: Sendable {
        let loads = Mutex(0)
    }

    struct Harness {
        let root: String
        let workspace: Workspace
        let table: ToolTable
        let counters: Counters

        init(_ environment: [String: String] = [:]) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-memory-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try "def parse_config(path):\n    return open(path).read()\n".write(toFile: root + "/a.py", atomically: true, encoding: .utf8)
            let configuration = try Configuration(environment: environment, home: "/h", onlineCPUs: 2)
            let counters = Counters()
            self.counters = counters
            workspace = Workspace(configuration: configuration) { () throws(CodeSageError) in
                counters.loads.withLock { $0 += 1 }
                return SlowWordEmbedder(delay: 0)
            }
            table = CodeToolTable.make(workspace: workspace)
        }

        func call(_ name: String, _ arguments: [String: Value] = [:]) async -> (text: String, structured: Value?, isError: Bool) {
            let result = await table.call(.init(name: name, arguments: arguments))
            guard case .text(let text, _, _)? = result.content.first else { return ("", nil, result.isError == true) }
            return (text, result.structuredContent, result.isError == true)
        }

        func search(_ query: String, mode: String = "semantic") async -> (cache: String, text: String) {
            let r = await call("search_codebase", ["path": .string(root), "query": .string(query), "mode": .string(mode)])
            return (r.structured?.objectValue?["cache"]?.stringValue ?? "?", r.text)
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: root) }
    }

    /// A JSON number as a Double, whether it was encoded as an integer or not.
    static func number(_ value: Value?) -> Double? {
        switch value {
        case .int(let i)?: return Double(i)
        case .double(let d)?: return d
        default: return nil
        }
    }

    @Test("the search cache answers the same query, a reworded near-duplicate, and nothing after a re-index")
    func searchCache() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        #expect(await h.call("index_codebase", ["path": .string(h.root)]).text.contains("generation 1"))
        #expect(await h.search("parse config").cache == "miss")
        #expect(await h.search("parse config").cache == "hit")
        #expect(await h.search("  parse \t config ").cache == "hit")
        // Same words in another order: another key, but the same embedding (cosine 1 ≥ 0.97).
        #expect(await h.search("config parse").cache == "similar")
        // Keyword mode has no embedding: no near-duplicate hits.
        #expect(await h.search("config parse", mode: "keyword").cache == "miss")
        let stats = await h.call("get_cache_statistics").structured?.objectValue
        let search = stats?["caches"]?.arrayValue?.first { $0.objectValue?["name"]?.stringValue == "search" }?.objectValue
        #expect(search?["hits"]?.intValue == 3 && search?["misses"]?.intValue == 2)
        #expect(stats?["search_near_duplicate_hits"]?.intValue == 1)

        // A re-index publishes generation 2: the cached answer is not served again.
        try "def parse_config(path):\n    return open(path).read()\n\ndef parse_config_strict(path):\n    return 2\n"
            .write(toFile: h.root + "/a.py", atomically: true, encoding: .utf8)
        #expect(await h.call("index_codebase", ["path": .string(h.root)]).text.contains("generation 2"))
        let after = await h.search("parse config")
        #expect(after.cache == "miss")
        #expect(after.text.contains("parse_config_strict"), "\(after.text)")
        #expect(await h.search("parse config").cache == "hit")
    }

    @Test("after an index run the caches are warmed: the new generation opened, its files read through the file cache, the warming reported")
    func warming() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        try "def load_settings(path):\n    return path\n".write(toFile: h.root + "/b.py", atomically: true, encoding: .utf8)
        _ = await h.call("index_codebase", ["path": .string(h.root)])
        var warmings: [Value] = []
        for _ in 0..<50 where warmings.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            warmings = await h.call("get_cache_statistics").structured?.objectValue?["warmings"]?.arrayValue ?? []
        }
        let report = try #require(warmings.first?.objectValue)
        #expect(report["files"]?.intValue == 2 && report["stopped_by"]?.stringValue == "all files" && report["generation"]?.intValue == 1)
        #expect((report["bytes_read"]?.intValue ?? 0) > 80)
        #expect(h.workspace.openEngines.count == 1)
    }

    @Test("read_code_file serves unchanged files from the file cache and never a stale one")
    func fileCache() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        _ = await h.call("index_codebase", ["path": .string(h.root)])
        try await Task.sleep(for: .milliseconds(100))
        let args: [String: Value] = ["path": .string(h.root), "file": "a.py"]
        #expect(await h.call("read_code_file", args).text.contains("def parse_config"))
        #expect(await h.call("read_code_file", args).text.contains("def parse_config"))
        #expect(h.workspace.fileCache.statistics().hits >= 1)
        // Same length, other text.
        try "def parse_CONFIG(path):\n    return open(path).read()\n".write(toFile: h.root + "/a.py", atomically: false, encoding: .utf8)
        #expect(await h.call("read_code_file", args).text.contains("def parse_CONFIG"))
    }

    @Test("get_memory_stats reports the kernel's figures, the caches' bytes, the model cache and the formula")
    func memoryStats() async throws {
        let h = try Harness(["CODESAGE_ENABLE_MEMORY_MAPPED_INDEXES": "true"])
        defer { h.cleanUp() }
        _ = await h.call("index_codebase", ["path": .string(h.root)])
        _ = await h.search("parse config")
        let stats = try #require(await h.call("get_memory_stats").structured?.objectValue)
        #expect((Self.number(stats["rss_mb"]) ?? 0) > 1 && (Self.number(stats["pss_mb"]) ?? 0) > 1 && (Self.number(stats["uss_mb"]) ?? 0) > 1)
        #expect(Self.number(stats["limit_mb"]) == 2048)
        #expect(stats["model_cache_stats"]?.objectValue?["loads"]?.intValue == 1)
        #expect((stats["cache_memory_breakdown"]?.objectValue?["search"]?.intValue ?? 0) > 0)
        #expect(stats["indexed_files"]?.intValue == 1 && Self.number(stats["memory_per_indexed_file_kb"]) != nil)
        #expect(stats["efficiency_formula"]?.stringValue?.contains("RSS") == true)
        #expect(stats["memory_manager"]?.objectValue?["monitoring"]?.boolValue == true)
        let vectors = try #require(stats["index_vectors"]?.arrayValue?.first?.objectValue)
        #expect(vectors["memory_mapped"]?.boolValue == true && (vectors["resident_bytes"]?.intValue ?? 0) > 0
                && (vectors["bytes"]?.intValue ?? 0) > 0, "\(vectors)")
    }

    @Test("/metrics: counters typed as counters, latency as a histogram, memory in exact bytes, each open index")
    func prometheusText() async throws {
        let h = try Harness()
        defer { h.cleanUp() }
        _ = await h.call("index_codebase", ["path": .string(h.root)])
        _ = await h.search("parse config")
        _ = await h.call("read_code_file", ["path": .string(h.root), "file": .string("missing.py")])  // an error
        let text = ServerTools.prometheus(h.workspace, metrics: h.table.metrics)
        let lines = text.split(separator: "\n").map(String.init)
        func type(_ name: String) -> String? {
            lines.first { $0.hasPrefix("# TYPE \(name) ") }.map { String($0.split(separator: " ")[3]) }
        }
        #expect(type("codesage_tool_requests_total") == "counter" && type("codesage_tool_errors_total") == "counter")
        #expect(type("codesage_memory_cleanups_total") == "counter" && type("codesage_cache_hits_total") == "counter")
        #expect(type("codesage_tool_duration_seconds") == "histogram" && type("codesage_memory_rss_bytes") == "gauge")
        #expect(lines.contains("codesage_tool_errors_total{tool=\"read_code_file\"} 1"))
        #expect(lines.contains("codesage_tool_requests_total{tool=\"search_codebase\"} 1"))
        #expect(lines.contains { $0.hasPrefix("codesage_tool_duration_seconds_bucket{tool=\"search_codebase\",le=\"0.001\"}") })
        let rss = try #require(lines.first { $0.hasPrefix("codesage_memory_rss_bytes ") }.flatMap { Double($0.split(separator: " ")[1]) })
        #expect(rss > 1_000_000 && rss.truncatingRemainder(dividingBy: 4096) == 0, "RSS in bytes, whole pages: \(rss)")
        let root = h.workspace.openEngines.keys.first ?? ""
        #expect(lines.contains { $0.hasPrefix("codesage_index_generation{root=\"\(root)\"} ") })
        // A counter kept elsewhere only moves forward: a second scrape does not add it twice.
        let again = ServerTools.prometheus(h.workspace, metrics: h.table.metrics).split(separator: "\n")
        #expect(again.filter { $0.hasPrefix("codesage_memory_cleanups_total ") } == lines.filter { $0.hasPrefix("codesage_memory_cleanups_total ") }.map { Substring($0) })
    }

    @Test("the model is unloaded after CODESAGE_MODEL_CACHE_TTL_MINUTES idle and reloaded on demand")
    func modelTTL() async throws {
        // 0.3 s; no memory manager: in a parallel run the process's RSS (other tests' models) would make it
        // unload the model too, and this test counts the TTL's unloads alone.
        let h = try Harness(["CODESAGE_MODEL_CACHE_TTL_MINUTES": "0.005", "CODESAGE_ENABLE_MEMORY_MONITORING": "false"])
        defer { h.cleanUp() }
        _ = await h.call("index_codebase", ["path": .string(h.root)])
        _ = await h.search("parse config")
        #expect(h.workspace.modelLoaded)
        var waited = 0
        while h.workspace.modelLoaded && waited < 50 { try await Task.sleep(for: .milliseconds(100)); waited += 1 }
        let model = await h.call("get_memory_stats").structured?.objectValue?["model_cache_stats"]?.objectValue
        #expect(model?["loaded"]?.boolValue == false && model?["unloads"]?.intValue == 1)
        // A cached query needs no model; a new one reloads it.
        #expect(await h.search("parse config").cache == "hit")
        #expect(!h.workspace.modelLoaded)
        #expect(await h.search("read the file").cache == "miss")
        #expect(h.workspace.modelLoaded && h.counters.loads.withLock { $0 } == 2)
    }

    @Test("over its limit the memory manager cleans up on its own, and get_memory_stats shows it")
    func cleanupOverLimit() async throws {
        // 70 MB held by the test puts the process over 90 % of a 64 MB limit at every sample.
        let h = try Harness(["CODESAGE_MEMORY_LIMIT": "64MB", "CODESAGE_MEMORY_CHECK_INTERVAL": "1"])
        defer { h.cleanUp() }
        let ballast = [UInt8](repeating: 1, count: 70 << 20)
        defer { withExtendedLifetime(ballast) {} }
        _ = await h.call("index_codebase", ["path": .string(h.root)])
        for i in 0..<20 { _ = await h.search("query number \(i)") }
        #expect(h.workspace.searchCache.statistics().entries > 0)
        var manager: [String: Value]?
        for _ in 0..<40 {
            try await Task.sleep(for: .milliseconds(100))
            manager = await h.call("get_memory_stats").structured?.objectValue?["memory_manager"]?.objectValue
            if (manager?["cleanups"]?.intValue ?? 0) >= 1 { break }
        }
        #expect((manager?["cleanups"]?.intValue ?? 0) >= 1)
        #expect(manager?["last_cleanup"]?.objectValue?["reason"]?.stringValue?.contains("of the 64 MB limit") == true)
    }
}
