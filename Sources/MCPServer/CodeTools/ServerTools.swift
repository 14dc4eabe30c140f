import Caching
import CodeSageCore
import Foundation
import CodeSageService
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

    /// Process memory, model and index figures in Prometheus text (appended to the tool metrics on /metrics).
    public static func prometheus(_ workspace: Workspace) -> String {
        guard let stats = try? workspace.memoryReport() else { return "" }
        let mebibyte = 1_048_576.0
        func gauge(_ name: String, _ help: String, _ value: Double) -> String {
            "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        return gauge("codesage_memory_rss_bytes", "Resident set size.", stats.rssMb * mebibyte)
            + gauge("codesage_memory_pss_bytes", "Proportional set size.", stats.pssMb * mebibyte)
            + gauge("codesage_memory_uss_bytes", "Private (unique) set size.", stats.ussMb * mebibyte)
            + gauge("codesage_memory_shared_bytes", "Shared resident memory.", stats.sharedMb * mebibyte)
            + gauge("codesage_memory_limit_bytes", "CODESAGE_MEMORY_LIMIT.", stats.limitMb * mebibyte)
            + gauge("codesage_model_loaded", "1 when the embedding model is loaded.", stats.modelCacheStats.loaded ? 1 : 0)
            + gauge("codesage_model_resident_bytes", "Resident bytes of the mapped model weights.", Double(stats.modelCacheStats.bytesResident))
            + gauge("codesage_memory_cleanups_total", "Cleanups run by the memory manager.", Double(stats.memoryManager.cleanups))
            + stats.cacheMemoryBreakdown.sorted { $0.key < $1.key }.map {
                gauge("codesage_cache_\($0.key)_bytes", "Bytes held by the \($0.key) cache.", Double($0.value))
            }.joined()
            + gauge("codesage_open_indexes", "Index snapshots open for search.", Double(stats.openIndexes))
    }
}
