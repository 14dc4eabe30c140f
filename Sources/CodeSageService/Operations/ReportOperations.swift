import Buffers
import Caching
import CodeSageCore
import Foundation
import MemoryManagement
import Platform

/// Memory figures of this process as the kernel reports them, with what the server holds.
public struct MemoryReport: Answer {
    public var rssMb, vmsMb, pssMb, ussMb, sharedMb, swapMb, peakRssMb: Double
    public var limitMb, availableMb, systemTotalMb, percent, percentOfLimit: Double
    public var modelCacheStats: ModelCache<any TextEmbedder>.Stats
    /// Bytes held by each in-memory cache and by idle pool buffers.
    public var cacheMemoryBreakdown: [String: Int]
    public var memoryManager: MemoryManager.Report
    public var openIndexes: Int
    /// The FAISS file of each open index: size, whether it is memory-mapped, and (mapped) its resident bytes from /proc/self/smaps.
    public var indexVectors: [IndexVectors]
    public var indexedFiles: Int
    public var memoryPerIndexedFileKb: Double?
    public var efficiencyPercent: Double
    public var efficiencyFormula: String

    /// One open index's vector file.
    public struct IndexVectors: Sendable, Encodable {
        public var root: String; public var file: String; public var bytes: Int; public var memoryMapped: Bool; public var residentBytes: Int?
    }

    /// How `efficiency_percent` is computed (also in docs/memory.md).
    public static let efficiencyFormula = "100 × (resident model weights + cache bytes + index files of open indexes) / RSS: the share of resident memory that is data the server chose to hold, the rest being code, runtime and allocator overhead"

    /// RSS and its parts, the limit, the model, the caches, cleanups and efficiency, a line each.
    public var text: String {
        let m = modelCacheStats
        var text = String(format: "RSS %.1f MB (PSS %.1f, USS %.1f, shared %.1f, swap %.1f, peak %.1f); limit %.0f MB (%.1f%% used); system %.1f%% of %.0f MB, %.0f MB available\n",
                          rssMb, pssMb, ussMb, sharedMb, swapMb, peakRssMb, limitMb, percentOfLimit, percent, systemTotalMb, availableMb)
        text += "model: " + (m.loaded ? "loaded (\(m.bytesResident / 1_048_576) of \(m.bytesMapped / 1_048_576) MiB mapped resident)" : "not loaded")
            + "; \(m.loads) loads, \(m.unloads) unloads, \(m.hits) hits\n"
        text += "caches: " + cacheMemoryBreakdown.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) bytes" }.joined(separator: ", ") + "\n"
        text += "cleanups: \(memoryManager.cleanups)" + (memoryManager.lastCleanup.map { ", last at \($0.time): \($0.reason), RSS \($0.rssBeforeBytes / 1_048_576) → \($0.rssAfterBytes / 1_048_576) MiB" } ?? "") + "\n"
        text += String(format: "efficiency %.1f%%", efficiencyPercent)
        return text
    }
}

/// Every cache of the server, its pools, the adaptive sizer's decisions and recommendations,
/// the cache warmings, and each open index's persistent embedding cache.
public struct CacheReport: Answer {
    /// One open index's persistent embedding cache.
    public struct Index: Sendable, Encodable {
        public var root: String; public var generation: Int64; public var chunks: Int
        public var embeddingCacheEntries: Int; public var embeddingCacheBytes: Int; public var memoryMapped: Bool
    }
    /// The adaptive sizer's state.
    public struct Adaptive: Sendable, Encodable {
        public var enabled: Bool
        public var targetBytes: Int
        public var adjustments: Int
        public var decisions: [AdaptiveCacheSizer.Decision]
        public var recommendations: [String]
    }
    public var caches: [CacheStatistics]
    public var searchNearDuplicateHits: Int
    public var searchSimilarityThreshold: Double
    public var model: ModelCache<any TextEmbedder>.Stats
    public var pools: [PoolStatistics]
    public var adaptive: Adaptive
    public var warmings: [CacheWarming.Report]
    public var indexes: [Index]

    /// A line per cache, the model, the recommendations and a line per open index.
    public var text: String {
        var text = caches.map {
            String(format: "%@: %d hits, %d misses (%.1f%%), %d evictions, %d entries, %d of %d bytes", $0.name, $0.hits, $0.misses,
                   $0.hitRate * 100, $0.evictions, $0.entries, $0.bytes, $0.capacityBytes)
        }.joined(separator: "\n")
        text += "\nsearch near-duplicate hits: \(searchNearDuplicateHits)"
        text += "\nmodel: \(model.loaded ? "loaded" : "not loaded"), \(model.loads) loads, \(model.unloads) unloads, \(model.hits) hits"
        text += "\n" + adaptive.recommendations.joined(separator: "\n")
        text += indexes.map { "\n\($0.root): generation \($0.generation), \($0.chunks) chunks, embedding cache \($0.embeddingCacheEntries) vectors (\($0.embeddingCacheBytes) bytes)\($0.memoryMapped ? ", memory-mapped" : "")" }.joined()
        return text
    }
}

/// What `clearMemory` dropped.
public struct ClearReport: Answer {
    public var snapshotsClosed: Int
    public var modelUnloaded: Bool
    public var entriesDropped: [String: Int]
    public var poolBytesReleased: Int
    public var rssBeforeMb: Double
    public var rssAfterMb: Double

    /// One line: snapshots, model, entries, RSS before and after.
    public var text: String {
        let dropped = entriesDropped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return String(format: "closed %d index snapshots, %@; dropped cache entries: %@; RSS %.1f → %.1f MB", snapshotsClosed,
                      modelUnloaded ? "unloaded the model" : "no model was loaded", dropped, rssBeforeMb, rssAfterMb)
    }
}

extension Workspace {
    static let mebibyte = 1_048_576.0

    /// This process's memory from /proc, with what the workspace holds.
    public func memoryReport() throws(CodeSageError) -> MemoryReport {
        let process = try ProcessMemory.read()
        let system = try SystemMemory.read()
        let model = models.stats()
        var breakdown: [String: Int] = [:]
        for cache in caches { breakdown[cache.name] = cache.statistics().bytes }
        breakdown["pools"] = pools.reduce(0) { $0 + $1.statistics().idleBytes }
        let engines = openEngines.values
        let files = engines.reduce(0) { $0 + $1.snapshot.manifest.files }
        // Each open index's base FAISS file and its delta segment (always mapped).
        let vectorFiles: [(root: String, path: String, bytes: Int, mapped: Bool)] = engines.flatMap { e in
            let manifest = e.snapshot.manifest, layout = e.snapshot.layout
            return [manifest.vectors.map { (layout.root, layout.path(of: $0.file), $0.bytes, e.snapshot.vectors?.isMemoryMapped ?? false) },
                    manifest.delta.map { (layout.root, layout.path(of: $0.file), $0.bytes, true) }].compactMap { $0 }
        }
        let resident = ProcessMemory.residentBytesOfMappings(Set(vectorFiles.filter(\.mapped).map(\.path)))
        let indexVectors = vectorFiles.map { f in
            MemoryReport.IndexVectors(root: f.root, file: f.path, bytes: f.bytes, memoryMapped: f.mapped, residentBytes: f.mapped ? resident[f.path] ?? 0 : nil)
        }.sorted { ($0.root, $0.file) < ($1.root, $1.file) }
        let indexBytes = vectorFiles.reduce(0) { $0 + $1.bytes }
        let held = Double(model.bytesResident + breakdown.values.reduce(0, +) + indexBytes)
        func mb(_ bytes: UInt64) -> Double { (Double(bytes) / Self.mebibyte * 10).rounded() / 10 }
        let limit = configuration.memoryLimitBytes
        return MemoryReport(
            rssMb: mb(process.rss), vmsMb: mb(process.virtualSize), pssMb: mb(process.pss), ussMb: mb(process.uss),
            sharedMb: mb(process.shared), swapMb: mb(process.swap), peakRssMb: mb(process.peakRSS),
            limitMb: mb(limit), availableMb: mb(system.available), systemTotalMb: mb(system.total),
            percent: system.total == 0 ? 0 : (Double(process.rss) / Double(system.total) * 10_000).rounded() / 100,
            percentOfLimit: limit == 0 ? 0 : (Double(process.rss) / Double(limit) * 10_000).rounded() / 100,
            modelCacheStats: model, cacheMemoryBreakdown: breakdown, memoryManager: memoryManager.report(),
            openIndexes: engines.count, indexVectors: indexVectors, indexedFiles: files,
            memoryPerIndexedFileKb: files == 0 ? nil : (Double(process.rss) / Double(files) / 1024 * 10).rounded() / 10,
            efficiencyPercent: process.rss == 0 ? 0 : min(100, (held / Double(process.rss) * 1000).rounded() / 10),
            efficiencyFormula: MemoryReport.efficiencyFormula)
    }

    /// The caches, pools, adaptive sizer, warmings and each open index's persistent embedding cache.
    public func cacheReport() throws(CodeSageError) -> CacheReport {
        var indexes: [CacheReport.Index] = []
        for (root, engine) in openEngines.sorted(by: { $0.key < $1.key }) {
            let size = try engine.snapshot.withStore { (store) throws(CodeSageError) in try store.embeddingCacheSize() }
            indexes.append(.init(root: root, generation: engine.snapshot.generation, chunks: engine.snapshot.manifest.chunks,
                                 embeddingCacheEntries: size.entries, embeddingCacheBytes: size.bytes,
                                 memoryMapped: engine.snapshot.vectors?.isMemoryMapped ?? false))
        }
        let history = cacheSizer.history()
        return CacheReport(
            caches: caches.map { $0.statistics() },
            searchNearDuplicateHits: searchCache.nearDuplicateHits,
            searchSimilarityThreshold: searchCache.similarity,
            model: models.stats(), pools: pools.map { $0.statistics() },
            adaptive: .init(enabled: configuration.adaptiveMemoryEnabled, targetBytes: cacheSizer.targetBytes,
                            adjustments: history.adjustments, decisions: history.decisions,
                            recommendations: cacheSizer.recommendations()),
            warmings: warmingReports, indexes: indexes)
    }

    /// Drops what the workspace holds in memory (caches, idle pool buffers, snapshots, the model; all
    /// reload on demand) and returns freed memory to the system. Indexes on disk are kept.
    public func clearMemory() throws(CodeSageError) -> ClearReport {
        let before = try ProcessMemory.read().rss
        let snapshots = closeSnapshots()
        let model = unloadModel()
        var entries: [String: Int] = [:]
        for cache in caches { entries[cache.name] = cache.removeAll() }
        let poolBytes = pools.reduce(0) { $0 + $1.releaseIdle() }
        ProcessMemory.releaseFreedMemory()
        let after = try ProcessMemory.read().rss
        return ClearReport(snapshotsClosed: snapshots, modelUnloaded: model, entriesDropped: entries, poolBytesReleased: poolBytes,
                           rssBeforeMb: Double(before) / Self.mebibyte, rssAfterMb: Double(after) / Self.mebibyte)
    }
}
