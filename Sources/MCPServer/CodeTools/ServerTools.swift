import Caching
import CodeSageCore
import Foundation
import Indexing
import MemoryManagement
import MCP
import Platform
import Search

/// Tools about the server itself: get_memory_stats, get_cache_statistics, get_performance_metrics, clear_cache.
public enum ServerTools {
    static let mebibyte = 1_048_576.0

    /// Memory figures of this process as the kernel reports them, with what the server holds.
    struct MemoryStats: Encodable {
        var rssMb, vmsMb, pssMb, ussMb, sharedMb, swapMb, peakRssMb: Double
        var limitMb, availableMb, systemTotalMb, percent, percentOfLimit: Double
        var modelCacheStats: ModelCache<any TextEmbedder>.Stats
        /// Bytes held by each in-memory cache and by idle pool buffers.
        var cacheMemoryBreakdown: [String: Int]
        var memoryManager: MemoryManager.Report
        var openIndexes: Int
        /// The FAISS file of each open index: size, whether it is memory-mapped, and (mapped) its resident bytes from /proc/self/smaps.
        var indexVectors: [IndexVectors]
        var indexedFiles: Int
        var memoryPerIndexedFileKb: Double?
        var efficiencyPercent: Double
        var efficiencyFormula: String
    }

    struct IndexVectors: Encodable { var root: String; var file: String; var bytes: Int; var memoryMapped: Bool; var residentBytes: Int? }

    /// How `efficiency_percent` is computed (also in docs/memory.md).
    static let efficiencyFormula = "100 × (resident model weights + cache bytes + index files of open indexes) / RSS: the share of resident memory that is data the server chose to hold, the rest being code, runtime and allocator overhead"

    static func memoryStats(_ workspace: Workspace) throws(CodeSageError) -> MemoryStats {
        let process = try ProcessMemory.read()
        let system = try SystemMemory.read()
        let model = workspace.models.stats()
        var breakdown: [String: Int] = [:]
        for cache in workspace.caches { breakdown[cache.name] = cache.statistics().bytes }
        breakdown["pools"] = workspace.pools.reduce(0) { $0 + $1.statistics().idleBytes }
        let engines = workspace.openEngines.values
        let files = engines.reduce(0) { $0 + $1.snapshot.manifest.files }
        let vectorFiles = engines.compactMap { e in e.snapshot.manifest.vectors.map { (e, e.snapshot.layout.path(of: $0.file), $0.bytes) } }
        let resident = ProcessMemory.residentBytesOfMappings(Set(vectorFiles.filter { $0.0.snapshot.vectors?.isMemoryMapped == true }.map(\.1)))
        let indexVectors = vectorFiles.map { e, path, bytes in
            IndexVectors(root: e.snapshot.layout.root, file: path, bytes: bytes, memoryMapped: e.snapshot.vectors?.isMemoryMapped ?? false,
                         residentBytes: e.snapshot.vectors?.isMemoryMapped == true ? resident[path] ?? 0 : nil)
        }.sorted { $0.root < $1.root }
        let indexBytes = engines.reduce(0) { $0 + ($1.snapshot.manifest.vectors?.bytes ?? 0) }
        let held = Double(model.bytesResident + breakdown.values.reduce(0, +) + indexBytes)
        func mb(_ bytes: UInt64) -> Double { (Double(bytes) / mebibyte * 10).rounded() / 10 }
        let limit = workspace.configuration.memoryLimitBytes
        return MemoryStats(
            rssMb: mb(process.rss), vmsMb: mb(process.virtualSize), pssMb: mb(process.pss), ussMb: mb(process.uss),
            sharedMb: mb(process.shared), swapMb: mb(process.swap), peakRssMb: mb(process.peakRSS),
            limitMb: mb(limit), availableMb: mb(system.available), systemTotalMb: mb(system.total),
            percent: system.total == 0 ? 0 : (Double(process.rss) / Double(system.total) * 10_000).rounded() / 100,
            percentOfLimit: limit == 0 ? 0 : (Double(process.rss) / Double(limit) * 10_000).rounded() / 100,
            modelCacheStats: model, cacheMemoryBreakdown: breakdown, memoryManager: workspace.memoryManager.report(),
            openIndexes: engines.count, indexVectors: indexVectors, indexedFiles: files,
            memoryPerIndexedFileKb: files == 0 ? nil : (Double(process.rss) / Double(files) / 1024 * 10).rounded() / 10,
            efficiencyPercent: process.rss == 0 ? 0 : min(100, (held / Double(process.rss) * 1000).rounded() / 10),
            efficiencyFormula: efficiencyFormula)
    }

    public static func memory(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_memory_stats",
            description: "This server's memory as the kernel reports it (/proc/self/status and smaps_rollup): RSS, virtual size, PSS, USS (private), shared, swap and peak in MB; the limit (CODESAGE_MEMORY_LIMIT), percent of the system and of the limit, available memory; the model cache (loads, unloads, hits, mapped and resident bytes); bytes per cache; the memory manager's samples and cleanups (count, last: when, why, RSS before/after); memory per indexed file; and an efficiency figure with its formula.",
            inputSchema: Schema.object([:])
        ) { arguments in
            try ToolArguments(arguments, tool: "get_memory_stats").rejectUnknown(allowed: [])
            return try await offPool {
                let stats = try memoryStats(workspace)
                let m = stats.modelCacheStats
                var text = String(format: "RSS %.1f MB (PSS %.1f, USS %.1f, shared %.1f, swap %.1f, peak %.1f); limit %.0f MB (%.1f%% used); system %.1f%% of %.0f MB, %.0f MB available\n",
                                  stats.rssMb, stats.pssMb, stats.ussMb, stats.sharedMb, stats.swapMb, stats.peakRssMb, stats.limitMb,
                                  stats.percentOfLimit, stats.percent, stats.systemTotalMb, stats.availableMb)
                text += "model: " + (m.loaded ? "loaded (\(m.bytesResident / 1_048_576) of \(m.bytesMapped / 1_048_576) MiB mapped resident)" : "not loaded")
                    + "; \(m.loads) loads, \(m.unloads) unloads, \(m.hits) hits\n"
                text += "caches: " + stats.cacheMemoryBreakdown.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) bytes" }.joined(separator: ", ") + "\n"
                text += "cleanups: \(stats.memoryManager.cleanups)" + (stats.memoryManager.lastCleanup.map { ", last at \($0.time): \($0.reason), RSS \($0.rssBeforeBytes / 1_048_576) → \($0.rssAfterBytes / 1_048_576) MiB" } ?? "") + "\n"
                text += String(format: "efficiency %.1f%%", stats.efficiencyPercent)
                return ToolOutput(text: text, structured: try structured(stats))
            }
        }
    }

    /// Every cache of the server, its pools, the adaptive sizer's decisions and recommendations,
    /// the cache warmings, and each open index's persistent embedding cache.
    struct CacheStats: Encodable {
        struct Index: Encodable { var root: String; var generation: Int64; var chunks: Int; var embeddingCacheEntries: Int; var embeddingCacheBytes: Int; var memoryMapped: Bool }
        struct Adaptive: Encodable {
            var enabled: Bool
            var targetBytes: Int
            var adjustments: Int
            var decisions: [AdaptiveCacheSizer.Decision]
            var recommendations: [String]
        }
        var caches: [CacheStatistics]
        var searchNearDuplicateHits: Int
        var searchSimilarityThreshold: Double
        var model: ModelCache<any TextEmbedder>.Stats
        var pools: [PoolStatistics]
        var adaptive: Adaptive
        var warmings: [CacheWarming.Report]
        var indexes: [Index]
    }

    public static func caches(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_cache_statistics",
            description: "Every cache of this server with hits, misses, hit rate, evictions, entries, bytes and capacity: the embedding cache (query and chunk vectors), the search cache (with near-duplicate hits), the file cache (compressed contents) and the model cache; the buffer pools; the adaptive sizer's budget decisions and its recommendations, computed from these counters; the cache warmings after indexing; and each open index's persistent embedding cache.",
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
                let history = workspace.cacheSizer.history()
                let stats = CacheStats(
                    caches: workspace.caches.map { $0.statistics() },
                    searchNearDuplicateHits: workspace.searchCache.nearDuplicateHits,
                    searchSimilarityThreshold: workspace.searchCache.similarity,
                    model: workspace.models.stats(), pools: workspace.pools.map { $0.statistics() },
                    adaptive: .init(enabled: workspace.configuration.adaptiveMemoryEnabled, targetBytes: workspace.cacheSizer.targetBytes,
                                    adjustments: history.adjustments, decisions: history.decisions,
                                    recommendations: workspace.cacheSizer.recommendations()),
                    warmings: workspace.warmingReports, indexes: indexes)
                var text = stats.caches.map {
                    String(format: "%@: %d hits, %d misses (%.1f%%), %d evictions, %d entries, %d of %d bytes", $0.name, $0.hits, $0.misses,
                           $0.hitRate * 100, $0.evictions, $0.entries, $0.bytes, $0.capacityBytes)
                }.joined(separator: "\n")
                text += "\nsearch near-duplicate hits: \(stats.searchNearDuplicateHits)"
                text += "\nmodel: \(stats.model.loaded ? "loaded" : "not loaded"), \(stats.model.loads) loads, \(stats.model.unloads) unloads, \(stats.model.hits) hits"
                text += "\n" + stats.adaptive.recommendations.joined(separator: "\n")
                text += indexes.map { "\n\($0.root): generation \($0.generation), \($0.chunks) chunks, embedding cache \($0.embeddingCacheEntries) vectors (\($0.embeddingCacheBytes) bytes)\($0.memoryMapped ? ", memory-mapped" : "")" }.joined()
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
            description: "Drop what this server holds in memory: the embedding, search and file caches, idle pool buffers, open index snapshots and the model (all reload on demand), then return freed memory to the system. Indexes on disk and their persistent embedding caches are kept. Reports what was dropped and RSS before and after.",
            inputSchema: Schema.object([:]),
            readOnly: false
        ) { arguments in
            try ToolArguments(arguments, tool: "clear_cache").rejectUnknown(allowed: [])
            return try await offPool {
                let before = try ProcessMemory.read().rss
                let snapshots = workspace.closeSnapshots()
                let model = workspace.unloadModel()
                var entries: [String: Int] = [:]
                for cache in workspace.caches { entries[cache.name] = cache.removeAll() }
                let poolBytes = workspace.pools.reduce(0) { $0 + $1.releaseIdle() }
                ProcessMemory.releaseFreedMemory()
                let after = try ProcessMemory.read().rss
                struct Cleared: Encodable {
                    var snapshotsClosed: Int; var modelUnloaded: Bool; var entriesDropped: [String: Int]; var poolBytesReleased: Int
                    var rssBeforeMb: Double; var rssAfterMb: Double
                }
                let cleared = Cleared(snapshotsClosed: snapshots, modelUnloaded: model, entriesDropped: entries, poolBytesReleased: poolBytes,
                                      rssBeforeMb: Double(before) / mebibyte, rssAfterMb: Double(after) / mebibyte)
                let dropped = entries.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                let text = String(format: "closed %d index snapshots, %@; dropped cache entries: %@; RSS %.1f → %.1f MB", snapshots,
                                  model ? "unloaded the model" : "no model was loaded", dropped, cleared.rssBeforeMb, cleared.rssAfterMb)
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
            + gauge("codesage_model_loaded", "1 when the embedding model is loaded.", stats.modelCacheStats.loaded ? 1 : 0)
            + gauge("codesage_model_resident_bytes", "Resident bytes of the mapped model weights.", Double(stats.modelCacheStats.bytesResident))
            + gauge("codesage_memory_cleanups_total", "Cleanups run by the memory manager.", Double(stats.memoryManager.cleanups))
            + stats.cacheMemoryBreakdown.sorted { $0.key < $1.key }.map {
                gauge("codesage_cache_\($0.key)_bytes", "Bytes held by the \($0.key) cache.", Double($0.value))
            }.joined()
            + gauge("codesage_open_indexes", "Index snapshots open for search.", Double(stats.openIndexes))
    }
}
