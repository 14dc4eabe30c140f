import Caching
import CodeSageCore
import Foundation
import CodeSageService
import CoreMetrics
import MemoryManagement
import MCP
import Platform
import Search

/// Tools about the server itself: get_memory_stats, get_cache_statistics, get_performance_metrics, clear_cache.
public enum ServerTools {
    public static func memory(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_memory_stats",
            description: "This server's memory as the kernel reports it (/proc/self/status and smaps_rollup): RSS, virtual size, PSS, USS (private), shared, swap and peak in MB; the limit (CODESAGE_MEMORY_LIMIT), percent of the system and of the limit, available memory; the model cache (loads, unloads, hits, mapped and resident bytes); bytes per cache; the memory manager's samples and cleanups (count, last: when, why, RSS before/after); memory per indexed file; and an efficiency figure with its formula.",
            inputSchema: Schema.object([:])
        ) { arguments in
            try ToolArguments(arguments, tool: "get_memory_stats").rejectUnknown(allowed: [])
            return try await offPool { try ToolOutput(workspace.memoryReport()) }
        }
    }

    public static func caches(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_cache_statistics",
            description: "Every cache of this server with hits, misses, hit rate, evictions, entries, bytes and capacity: the embedding cache (query and chunk vectors), the search cache (with near-duplicate hits), the file cache (compressed contents) and the model cache; the buffer pools; the adaptive sizer's budget decisions and its recommendations, computed from these counters; the cache warmings after indexing; and each open index's persistent embedding cache.",
            inputSchema: Schema.object([:])
        ) { arguments in
            try ToolArguments(arguments, tool: "get_cache_statistics").rejectUnknown(allowed: [])
            return try await offPool { try ToolOutput(workspace.cacheReport()) }
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
            description: "Drop what this server holds in memory: the embedding, search and file caches, idle pool buffers, open index snapshots and the model (all reload on demand), then return freed memory to the system. Indexes on disk and their persistent embedding caches are kept. Reports what was dropped and RSS before and after.",
            inputSchema: Schema.object([:]),
            readOnly: false
        ) { arguments in
            try ToolArguments(arguments, tool: "clear_cache").rejectUnknown(allowed: [])
            return try await offPool { try ToolOutput(workspace.clearMemory()) }
        }
    }

    /// GET /metrics: process memory (bytes, from /proc/self/smaps_rollup), the model, the caches and pools,
    /// the memory manager's cleanups and each open index, recorded into `metrics`' registry through
    /// swift-metrics, then the whole registry (tool calls included) as Prometheus text. It reads no full
    /// smaps and takes no lock held across a model load.
    public static func prometheus(_ workspace: Workspace, metrics: ToolMetrics) -> String {
        let factory = metrics.factory
        func gauge(_ name: String, _ value: Double, _ labels: [(String, String)] = []) {
            Gauge(label: name, dimensions: labels, factory: factory).record(value)
        }
        if let process = try? ProcessMemory.read() {
            gauge("codesage_memory_rss_bytes", Double(process.rss))
            gauge("codesage_memory_pss_bytes", Double(process.pss))
            gauge("codesage_memory_uss_bytes", Double(process.uss))
            gauge("codesage_memory_shared_bytes", Double(process.shared))
            gauge("codesage_memory_swap_bytes", Double(process.swap))
        }
        gauge("codesage_memory_limit_bytes", Double(workspace.configuration.memoryLimitBytes))
        let model = workspace.models.stats()
        gauge("codesage_model_loaded", model.loaded ? 1 : 0)
        gauge("codesage_model_mapped_bytes", Double(model.bytesMapped))
        gauge("codesage_model_resident_bytes", Double(model.bytesResident))
        for cache in workspace.caches {
            let stats = cache.statistics()
            gauge("codesage_cache_bytes", Double(stats.bytes), [("cache", cache.name)])
            gauge("codesage_cache_entries", Double(stats.entries), [("cache", cache.name)])
            recordTotal("codesage_cache_hits_total", stats.hits, [("cache", cache.name)], in: metrics)
            recordTotal("codesage_cache_misses_total", stats.misses, [("cache", cache.name)], in: metrics)
        }
        gauge("codesage_pool_idle_bytes", Double(workspace.pools.reduce(0) { $0 + $1.statistics().idleBytes }))
        recordTotal("codesage_memory_cleanups_total", workspace.memoryManager.report().cleanups, [], in: metrics)
        let engines = workspace.openEngines
        gauge("codesage_open_indexes", Double(engines.count))
        for (root, engine) in engines {
            let manifest = engine.snapshot.manifest
            gauge("codesage_index_generation", Double(manifest.generation), [("root", root)])
            gauge("codesage_index_files", Double(manifest.files), [("root", root)])
            gauge("codesage_index_chunks", Double(manifest.chunks), [("root", root)])
            gauge("codesage_index_vector_bytes", Double(manifest.vectors?.bytes ?? 0), [("root", root)])
            gauge("codesage_index_semantic_coverage", manifest.semanticCoverage, [("root", root)])
        }
        for (root, watcher) in workspace.watchers {
            let status = watcher.current
            gauge("codesage_watch_folders", Double(status.folders), [("root", root)])
            gauge("codesage_watch_scanning", status.mode == .scanning ? 1 : 0, [("root", root)])
            gauge("codesage_watch_pending_changes", Double(status.pendingChanges), [("root", root)])
            gauge("codesage_watch_last_update_seconds", status.lastUpdateSeconds ?? 0, [("root", root)])
            recordTotal("codesage_watch_updates_total", status.updates, [("root", root)], in: metrics)
            recordTotal("codesage_watch_overflows_total", status.overflows, [("root", root)], in: metrics)
        }
        return metrics.prometheus()
    }

    /// Brings counter `name` up to `total` (a count kept elsewhere that only grows): counters are typed
    /// as counters, not as gauges.
    static func recordTotal(_ name: String, _ total: Int, _ labels: [(String, String)], in metrics: ToolMetrics) {
        let delta = metrics.advance(name + labels.map { "|\($0.1)" }.joined(), to: total)
        let counter = Counter(label: name, dimensions: labels, factory: metrics.factory)
        if delta > 0 { counter.increment(by: delta) }
    }
}
