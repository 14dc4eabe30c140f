import CodeSageCore
import Foundation
import Indexing
import MCP
import Platform

/// Tools about the server itself: get_memory_stats, get_cache_statistics, get_performance_metrics, clear_cache.
public enum ServerTools {
    static let mebibyte = 1_048_576.0

    /// Memory figures of this process as the kernel reports them.
    struct MemoryStats: Encodable {
        var rssMb, vmsMb, pssMb, ussMb, sharedMb, swapMb, peakRssMb: Double
        var limitMb, availableMb, systemTotalMb, percentOfSystem: Double
        var modelLoaded: Bool
        var modelBytesMapped: Int
        var modelBytesResident: Int
        var openIndexes: Int
    }

    static func memoryStats(_ workspace: Workspace) throws(CodeSageError) -> MemoryStats {
        let process = try ProcessMemory.read()
        let system = try SystemMemory.read()
        let encoder = (workspace.loadedModel as? EncoderEmbedder)?.encoder
        func mb(_ bytes: UInt64) -> Double { (Double(bytes) / mebibyte * 10).rounded() / 10 }
        return MemoryStats(
            rssMb: mb(process.rss), vmsMb: mb(process.virtualSize), pssMb: mb(process.pss), ussMb: mb(process.uss),
            sharedMb: mb(process.shared), swapMb: mb(process.swap), peakRssMb: mb(process.peakRSS),
            limitMb: mb(workspace.configuration.memoryLimitBytes), availableMb: mb(system.available), systemTotalMb: mb(system.total),
            percentOfSystem: system.total == 0 ? 0 : (Double(process.rss) / Double(system.total) * 10_000).rounded() / 100,
            modelLoaded: workspace.loadedModel != nil, modelBytesMapped: encoder?.bytesMapped ?? 0,
            modelBytesResident: encoder?.bytesResident() ?? 0, openIndexes: workspace.openEngines.count)
    }

    public static func memory(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_memory_stats",
            description: "This server's memory as the kernel reports it (/proc/self/status and smaps_rollup): RSS, virtual size, PSS, USS (private), shared, swap and peak, in MB; the configured limit and the machine's available memory; whether the model is loaded and how much of its mapped weights is resident.",
            inputSchema: Schema.object([:])
        ) { arguments in
            try ToolArguments(arguments, tool: "get_memory_stats").rejectUnknown(allowed: [])
            return try await offPool {
                let stats = try memoryStats(workspace)
                let text = String(format: "RSS %.1f MB (PSS %.1f, USS %.1f, shared %.1f, swap %.1f, peak %.1f); limit %.0f MB; system %.1f%% of %.0f MB, %.0f MB available; model %@",
                                  stats.rssMb, stats.pssMb, stats.ussMb, stats.sharedMb, stats.swapMb, stats.peakRssMb, stats.limitMb,
                                  stats.percentOfSystem, stats.systemTotalMb, stats.availableMb,
                                  stats.modelLoaded ? "loaded (\(stats.modelBytesResident / 1_048_576) of \(stats.modelBytesMapped / 1_048_576) MiB mapped resident)" : "not loaded")
                return ToolOutput(text: text, structured: try structured(stats))
            }
        }
    }

    /// What the server caches: the model, open index snapshots, and each open index's embedding cache.
    struct CacheStats: Encodable {
        struct Index: Encodable { var root: String; var generation: Int64; var chunks: Int; var embeddingCacheEntries: Int; var embeddingCacheBytes: Int; var memoryMapped: Bool }
        var modelLoaded: Bool
        var indexes: [Index]
    }

    public static func caches(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_cache_statistics",
            description: "What this server keeps cached: whether the embedding model is loaded, and for each open index its generation, chunk count, whether its vectors are memory-mapped, and the entries and bytes of its persistent embedding cache (content hash → vector).",
            inputSchema: Schema.object([:])
        ) { arguments in
            try ToolArguments(arguments, tool: "get_cache_statistics").rejectUnknown(allowed: [])
            return try await offPool {
                var indexes: [CacheStats.Index] = []
                for (root, engine) in workspace.openEngines.sorted(by: { $0.key < $1.key }) {
                    let size = try engine.snapshot.withStore { (store) throws(CodeSageError) in try store.embeddingCacheSize() }
                    indexes.append(.init(root: root, generation: engine.snapshot.generation, chunks: engine.snapshot.manifest.chunks,
                                         embeddingCacheEntries: size.entries, embeddingCacheBytes: size.bytes,
                                         memoryMapped: engine.snapshot.vectors?.isMemoryMapped ?? false))
                }
                let stats = CacheStats(modelLoaded: workspace.loadedModel != nil, indexes: indexes)
                let text = "model \(stats.modelLoaded ? "loaded" : "not loaded"); open indexes: \(indexes.count)\n"
                    + indexes.map { "\($0.root): generation \($0.generation), \($0.chunks) chunks, embedding cache \($0.embeddingCacheEntries) vectors (\($0.embeddingCacheBytes) bytes)\($0.memoryMapped ? ", memory-mapped" : "")" }.joined(separator: "\n")
                return ToolOutput(text: text, structured: try structured(stats))
            }
        }
    }

    public static func performance(_ metrics: ToolMetrics) -> ToolDefinition {
        ToolDefinition(
            name: "get_performance_metrics",
            description: "Calls, errors and latency (mean, p50, p95, p99, max in ms, from histograms) of every tool since this server started.",
            inputSchema: Schema.object([:])
        ) { arguments in
            try ToolArguments(arguments, tool: "get_performance_metrics").rejectUnknown(allowed: [])
            struct Report: Encodable { var uptimeSeconds: Double; var tools: [ToolMetrics.Tool] }
            let tools = metrics.snapshot()
            let report = Report(uptimeSeconds: Date().timeIntervalSince(metrics.started).rounded(), tools: tools)
            let text = "uptime \(Int(report.uptimeSeconds)) s\n" + tools.map {
                String(format: "%@: %d calls, %d errors, mean %.1f ms, p50 ≤ %.1f ms, p99 ≤ %.1f ms", $0.name, $0.requests, $0.errors,
                       $0.meanMilliseconds, $0.percentileMilliseconds(0.5), $0.percentileMilliseconds(0.99))
            }.joined(separator: "\n")
            return ToolOutput(text: text, structured: try structured(report))
        }
    }

    public static func clear(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "clear_cache",
            description: "Drop what this server holds in memory: open index snapshots and the model (both reload on demand), then return freed memory to the system. Indexes on disk and their persistent embedding caches are kept. Reports RSS before and after.",
            inputSchema: Schema.object([:]),
            readOnly: false
        ) { arguments in
            try ToolArguments(arguments, tool: "clear_cache").rejectUnknown(allowed: [])
            return try await offPool {
                let before = try ProcessMemory.read().rss
                let snapshots = workspace.closeSnapshots()
                let model = workspace.unloadModel()
                ProcessMemory.releaseFreedMemory()
                let after = try ProcessMemory.read().rss
                struct Cleared: Encodable { var snapshotsClosed: Int; var modelUnloaded: Bool; var rssBeforeMb: Double; var rssAfterMb: Double }
                let cleared = Cleared(snapshotsClosed: snapshots, modelUnloaded: model, rssBeforeMb: Double(before) / mebibyte, rssAfterMb: Double(after) / mebibyte)
                let text = String(format: "closed %d index snapshots, %@; RSS %.1f → %.1f MB", snapshots, model ? "unloaded the model" : "no model was loaded",
                                  cleared.rssBeforeMb, cleared.rssAfterMb)
                return ToolOutput(text: text, structured: try structured(cleared))
            }
        }
    }

    /// Process memory, model and index figures in Prometheus text (appended to the tool metrics on /metrics).
    public static func prometheus(_ workspace: Workspace) -> String {
        guard let stats = try? memoryStats(workspace) else { return "" }
        func gauge(_ name: String, _ help: String, _ value: Double) -> String {
            "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        return gauge("codesage_memory_rss_bytes", "Resident set size.", stats.rssMb * mebibyte)
            + gauge("codesage_memory_pss_bytes", "Proportional set size.", stats.pssMb * mebibyte)
            + gauge("codesage_memory_uss_bytes", "Private (unique) set size.", stats.ussMb * mebibyte)
            + gauge("codesage_memory_shared_bytes", "Shared resident memory.", stats.sharedMb * mebibyte)
            + gauge("codesage_memory_limit_bytes", "CODESAGE_MEMORY_LIMIT.", stats.limitMb * mebibyte)
            + gauge("codesage_model_loaded", "1 when the embedding model is loaded.", stats.modelLoaded ? 1 : 0)
            + gauge("codesage_model_resident_bytes", "Resident bytes of the mapped model weights.", Double(stats.modelBytesResident))
            + gauge("codesage_open_indexes", "Index snapshots open for search.", Double(stats.openIndexes))
    }
}
