import Buffers
import Caching
import CodeSageCore
import Embedding
import Foundation
import IndexStore
import Indexing
import Logging
import MemoryManagement
import Platform
import Search
import SourceModel
import Synchronization

/// The application core of one CodeSage process: the configuration, the model (loaded on first use,
/// unloaded after CODESAGE_MODEL_CACHE_TTL_MINUTES idle), one search engine per indexed root (reopened
/// when a newer generation is published), the in-memory caches (embedding, search, file), the buffer
/// pools, the memory manager and adaptive sizer that keep all of it within the budget, and the index
/// runs. Its typed operations (search, read a file, outline, index, reports; see the extensions) are
/// what the MCP tools, the CLI, the worker and the benchmarks call; they render nothing of their own.
public final class Workspace: Sendable {
    public let configuration: Configuration
    /// The index runs started through `startIndexRun`.
    public let jobs = IndexJobs()
    /// The model, loaded on first use and unloaded when idle.
    public let models: ModelCache<any TextEmbedder>
    /// Query and chunk vectors by content key (CODESAGE_EMBEDDING_CACHE_SIZE).
    public let embeddingCache: LRUCache<[UInt8], [Float]>
    /// Search answers (CODESAGE_SEARCH_CACHE_SIZE, CODESAGE_SEARCH_CACHE_SIMILARITY).
    public let searchCache: SearchCache
    /// File contents (CODESAGE_FILE_CACHE_SIZE, CODESAGE_CACHE_COMPRESSION).
    public let fileCache: FileCache
    /// FAISS result buffers (CODESAGE_INDEX_POOL_SIZE).
    public let indexPool: BufferPool
    /// Cleans up near CODESAGE_MEMORY_LIMIT.
    public let memoryManager: MemoryManager
    /// Moves cache budgets toward CODESAGE_MEMORY_TARGET_PERCENT of the limit.
    public let cacheSizer: AdaptiveCacheSizer
    /// What changes after init; every access holds this mutex for a few assignments, never for I/O.
    private struct State {
        var engines: [String: SearchEngine] = [:]
        var returnedFiles: [String: [String: Int]] = [:]
        var warmings: [CacheWarming.Report] = []
        var backgroundWorkRunning = false
        /// Set by `enableWatching`: roots are watched once they are served.
        var watchLogger: Logger?
        var watchers: [String: RootWatcher] = [:]
    }

    private let state = Mutex(State())
    /// The model behind the embedding cache, made on first use: held through that first load by callers
    /// of `model()` only, so readers of the workspace's state never wait for a model load.
    private let embedder = Mutex<CachingEmbedder?>(nil)


    /// A workspace over the model the configuration names (`ModelLoading`).
    public convenience init(configuration: Configuration, startBackgroundWork: Bool = true) {
        self.init(configuration: configuration, startBackgroundWork: startBackgroundWork) { () throws(CodeSageError) in
            try ModelLoading.embedder(configuration)
        }
    }

    /// A workspace whose model comes from `loadEmbedder` (called on first use, and again after an unload).
    /// With `startBackgroundWork` (a server), starts the model's idle timer, the memory manager
    /// (CODESAGE_ENABLE_MEMORY_MONITORING) and the adaptive sizer (CODESAGE_ADAPTIVE_MEMORY_ENABLED);
    /// a one-shot command leaves them off.
    public init(configuration: Configuration, startBackgroundWork: Bool = true,
                loadEmbedder: @escaping @Sendable () throws(CodeSageError) -> any TextEmbedder) {
        self.configuration = configuration
        models = ModelCache(ttl: configuration.modelCacheTTL, measure: { model in
            guard let encoder = (model as? EncoderEmbedder)?.encoder else { return (0, 0) }
            return (encoder.bytesMapped, encoder.bytesResident())
        }, loader: { try loadEmbedder() })
        embeddingCache = LRUCache(name: "embedding", maxEntries: configuration.embeddingCacheSize)
        searchCache = SearchCache(maxEntries: configuration.searchCacheSize, similarity: configuration.searchCacheSimilarity)
        fileCache = FileCache(maxEntries: configuration.fileCacheSize, compression: configuration.cacheCompression,
                              compressionLevel: configuration.compressionLevel,
                              blockPool: BufferPool(name: "cache", capacity: configuration.cachePoolSize, bufferBytes: 16 << 10,
                                                    maxRetainedBytes: 4 << 20))
        indexPool = BufferPool(name: "index", capacity: configuration.indexPoolSize,
                               bufferBytes: SearchEngine.candidateDepth * (MemoryLayout<Float>.stride + MemoryLayout<Int64>.stride))
        let limit = configuration.memoryLimitBytes
        let cacheTarget = Int(Double(limit) * Double(configuration.memoryTargetPercent) / 100)
        memoryManager = MemoryManager(policy: .init(
            limitBytes: limit, aggressive: configuration.aggressiveMemoryCleanup,
            interval: .seconds(configuration.memoryCheckIntervalSeconds), cacheFloorBytes: max(64 << 10, cacheTarget / 100)))
        let N = SettingCatalog.Name.self
        cacheSizer = AdaptiveCacheSizer(members: [
            .init(cache: embeddingCache, setting: N.embeddingCacheSize),
            .init(cache: searchCache, setting: N.searchCacheSize),
            .init(cache: fileCache, setting: N.fileCacheSize),
        ], targetBytes: cacheTarget)
        for cache in caches { memoryManager.register(cache: cache) }
        memoryManager.register(pool: indexPool)
        if let blocks = fileCache.blockPool { memoryManager.register(pool: blocks) }
        let models = self.models
        memoryManager.register(poolSource: { Workspace.modelPools(models) })
        memoryManager.register { aggressive, idle in aggressive ? models.unload() : models.evictIfIdle(for: idle) }
        if startBackgroundWork { self.startBackgroundWork() }
    }

    deinit { stopBackgroundWork() }

    /// Starts the model's idle timer, the memory manager (CODESAGE_ENABLE_MEMORY_MONITORING) and the
    /// adaptive sizer (CODESAGE_ADAPTIVE_MEMORY_ENABLED); does nothing when they run already.
    public func startBackgroundWork() {
        let start = state.withLock { s -> Bool in
            defer { s.backgroundWorkRunning = true }
            return !s.backgroundWorkRunning
        }
        guard start else { return }
        models.startTimer()
        if configuration.memoryMonitoringEnabled { memoryManager.start() }
        if configuration.adaptiveMemoryEnabled { cacheSizer.start(interval: .seconds(configuration.adaptiveAdjustmentIntervalSeconds)) }
    }

    /// Stops what `startBackgroundWork` started (waiting for their threads to end).
    public func stopBackgroundWork() {
        let stop = state.withLock { s -> Bool in
            defer { s.backgroundWorkRunning = false }
            return s.backgroundWorkRunning
        }
        let watchers = state.withLock { s -> [RootWatcher] in
            defer { s.watchers.removeAll(); s.watchLogger = nil }
            return Array(s.watchers.values)
        }
        for watcher in watchers { watcher.stop() }
        guard stop else { return }
        models.stopTimer()
        memoryManager.stop()
        cacheSizer.stop()
    }

    /// From now on every root this workspace serves (searched, or indexed through it) is watched and its
    /// index kept current (`RootWatcher`), until `stopBackgroundWork`. For the one process that writes the
    /// indexes: `serve`, or the supervisor's indexer; never a worker of a fleet.
    public func enableWatching(logger: Logger) {
        state.withLock { $0.watchLogger = logger }
    }

    /// Watches `layout`'s root when watching is enabled and it is not watched yet.
    public func watchIfEnabled(_ layout: IndexLayout) {
        let options = RootWatcher.Options(configuration: configuration)
        let watcher = state.withLock { s -> RootWatcher? in
            guard let logger = s.watchLogger, s.watchers[layout.root] == nil else { return nil }
            let watcher = RootWatcher(root: layout.root, options: options, logger: logger,
                                      ignoredNames: Self.watchIgnoredNames(layout),
                                      update: { [weak self] discovered throws(CodeSageError) in
                                          guard let self else { throw CodeSageError(.io, "the workspace is gone") }
                                          return try self.update(layout, discovered: discovered)
                                      },
                                      published: { [weak self] _ in self?.indexPublished(layout) })
            s.watchers[layout.root] = watcher
            return watcher
        }
        watcher?.start()
    }

    /// Names whose events cannot change the index of `layout`: the excluded folders, and the index
    /// folder when it lies inside the root.
    public static func watchIgnoredNames(_ layout: IndexLayout) -> Set<String> {
        var names = DiscoveryOptions().excludedDirectoryNames
        if layout.directory.hasPrefix(layout.root + "/") { names.insert((layout.directory as NSString).lastPathComponent) }
        return names
    }

    /// One incremental index run of `layout` (waiting for another run's lock), as a watcher does it.
    func update(_ layout: IndexLayout, discovered: (DiscoveryResult) -> Void) throws(CodeSageError) -> IndexReport {
        var options = IndexOptions(configuration: configuration)
        options.waitForLock = true
        return try Indexer(layout: layout, embedder: try model(), options: options).run(discovered: discovered)
    }

    /// Whether roots are watched (`enableWatching`, until `stopBackgroundWork`).
    public var isWatching: Bool { state.withLock { $0.watchLogger != nil } }

    /// The watchers, by root.
    public var watchers: [String: RootWatcher] { state.withLock { $0.watchers } }

    /// The model behind the embedding cache, loading it on first use. The returned embedder stays
    /// valid across unloads: it reloads the model when a vector is not cached.
    public func model() throws(CodeSageError) -> any TextEmbedder {
        let models = self.models, cache = embeddingCache
        return try embedder.withLock { (embedder) throws(CodeSageError) -> CachingEmbedder in
            if let embedder { return embedder }
            let load = { @Sendable () throws(CodeSageError) -> any TextEmbedder in
                do { return try models.model() } catch let error as CodeSageError { throw error } catch {
                    throw CodeSageError(.io, "cannot load the model", cause: error)
                }
            }
            let wrapped = CachingEmbedder(first: try load(), cache: cache, model: load)
            embedder = wrapped
            return wrapped
        }
    }

    /// The in-memory caches: embedding, search, file.
    public var caches: [any ManagedCache] { [embeddingCache, searchCache, fileCache] }

    /// The pools of the loaded model (its scratch blocks), none when unloaded.
    static func modelPools(_ models: ModelCache<any TextEmbedder>) -> [BufferPool] {
        ((models.loadedModel as? EncoderEmbedder)?.encoder.scratchPool).map { [$0] } ?? []
    }

    /// Every buffer pool now: the index result pool, the file cache's block pool and the model's scratch pool.
    public var pools: [BufferPool] { [indexPool, fileCache.blockPool].compactMap { $0 } + Self.modelPools(models) }

    /// Whether the model is loaded now.
    public var modelLoaded: Bool { models.loadedModel != nil }

    /// The layout of the repository at `path` (resolved; must be a folder).
    public func layout(root path: String) throws(CodeSageError) -> IndexLayout {
        try Self.layout(root: path, indexDirectory: configuration.indexDirectory)
    }

    /// The layout of the repository at `path` (resolved: links and `..` are judged by where they lead;
    /// must be a folder), its index under `indexDirectory` (CODESAGE_INDEX_DIR). The one root resolution
    /// of every command and tool.
    public static func layout(root path: String, indexDirectory: String?) throws(CodeSageError) -> IndexLayout {
        // C APIs would silently stop at a NUL: "ROOT\0/../../etc" must not mean ROOT.
        guard !path.contains("\u{0}") else { throw CodeSageError(.invalidArgument, "argument \"path\" contains a NUL character") }
        let resolved: String
        do {
            resolved = try FileSystem.realPath(resolving: path)
        } catch {
            throw CodeSageError(error.code == .notFound ? .notFound : .invalidArgument, "argument \"path\": \(path) does not exist")
        }
        guard (try? FileSystem.status(of: resolved, followingLinks: true))?.kind == .directory else {
            throw CodeSageError(.invalidArgument, "argument \"path\": \(path) is not a folder")
        }
        return IndexLayout(root: resolved, indexDirectory: indexDirectory)
    }

    /// The layout of an indexed root: the tools that read files serve only roots that have been indexed
    /// (`path` resolved first, so a link or `..` that leads elsewhere is judged by where it leads).
    public func indexedLayout(root path: String, tool: String) throws(CodeSageError) -> IndexLayout {
        let layout = try layout(root: path)
        guard FileSystem.exists(layout.manifestPath) else {
            throw CodeSageError(.notFound, "\(layout.root) is not indexed; \(tool) serves only indexed roots (run index_codebase on it first)")
        }
        return layout
    }

    /// The search engine of an indexed root, on its newest published generation. Opening a newer
    /// generation drops the search answers cached for older ones.
    public func engine(root path: String) throws(CodeSageError) -> SearchEngine {
        let layout = try layout(root: path)
        let cached = state.withLock { $0.engines[layout.root] }
        if let cached, cached.snapshot.isCurrent() { return cached }
        // A generation that only added a delta segment shares the cached snapshot's base index.
        let snapshot = try IndexSnapshot.open(layout: layout, memoryMap: configuration.memoryMappedIndexes, reusing: cached?.snapshot)
        let model = try model()
        try snapshot.requireModel(model.identity)
        // Two callers may open the root at once (a search and the warming after an index run): the first
        // engine stored on this generation serves both, so one mapping is used and counted, not two.
        let fresh = SearchEngine(snapshot: snapshot, embedder: model, resultPool: indexPool)
        let (engine, stored) = state.withLock { s -> (SearchEngine, Bool) in
            if let raced = s.engines[layout.root], raced.snapshot.generation >= snapshot.generation { return (raced, false) }
            s.engines[layout.root] = fresh
            return (fresh, true)
        }
        guard stored else { return engine }
        searchCache.invalidate(root: layout.root, keeping: snapshot.generation)
        watchIfEnabled(layout)
        return engine
    }

    /// Runs `request` on the index of `root` through the search cache; remembers which files it returned (for warming).
    public func search(_ request: SearchRequest, root: String) throws(CodeSageError) -> (results: [SearchResult], generation: Int64, cache: SearchCache.Outcome) {
        let engine = try engine(root: root)
        let root = engine.snapshot.layout.root
        let (results, outcome) = try searchCache.search(request, root: root, engine: engine)
        state.withLock { s in for r in results { s.returnedFiles[root, default: [:]][r.path, default: 0] += 1 } }
        return (results, engine.snapshot.generation, outcome)
    }

    /// The bytes of an indexed file, from the file cache when unchanged on disk.
    public func fileContents(_ path: String) throws(CodeSageError) -> FileCache.Contents {
        try fileCache.contents(of: path, maxSize: Int64(clamping: configuration.maxFileSizeBytes))
    }

    /// After an index run of `layout`: makes sure the root is open on its newest generation (dropping the
    /// answers cached for older ones), then warms the caches (bounded by `CacheWarming.defaultBudget`).
    public func indexPublished(_ layout: IndexLayout) {
        watchIfEnabled(layout)
        let popular = state.withLock { $0.returnedFiles[layout.root] ?? [:] }
        // Warming goes through `engine(root:)`, which reopens the root only if a newer generation was
        // published (dropping the answers of older ones) and keeps an engine a search already opened on it.
        let report = CacheWarming.warm(layout: layout, workspace: self, popular: popular)
        state.withLock { s in
            s.warmings.append(report)
            if s.warmings.count > 8 { s.warmings.removeFirst() }
        }
    }

    /// The recent cache warmings, oldest first.
    public var warmingReports: [CacheWarming.Report] {
        state.withLock { $0.warmings }
    }

    /// Unloads the model (it is loaded again on the next call that needs it); returns whether one was loaded.
    @discardableResult
    public func unloadModel() -> Bool { models.unload() }

    /// The open search engines, by root.
    public var openEngines: [String: SearchEngine] {
        state.withLock { $0.engines }
    }

    /// Forgets every open snapshot (they are reopened on the next search); returns how many there were.
    @discardableResult
    public func closeSnapshots() -> Int {
        state.withLock { s in
            defer { s.engines.removeAll() }
            return s.engines.count
        }
    }

    /// Resolves `file` (relative to the root, or absolute inside it) to an absolute path inside
    /// the root; refuses `..` that leaves it, absolute paths elsewhere and links that escape.
    public static func resolve(file: String, in layout: IndexLayout) throws(CodeSageError) -> (absolute: String, relative: String) {
        guard !file.isEmpty, !file.contains("\u{0}") else { throw CodeSageError(.invalidArgument, "argument \"file\" is empty or not a path") }
        let joined = file.hasPrefix("/") ? file : layout.root + "/" + file
        let resolved: String
        do {
            resolved = try FileSystem.realPath(resolving: joined)
        } catch {
            throw CodeSageError(.notFound, "argument \"file\": \(file) does not exist in \(layout.root)")
        }
        guard resolved.hasPrefix(layout.root + "/") else {
            throw CodeSageError(.invalidArgument, "argument \"file\": \(file) is outside the indexed root \(layout.root); refused")
        }
        return (resolved, String(resolved.dropFirst(layout.root.count + 1)))
    }
}
