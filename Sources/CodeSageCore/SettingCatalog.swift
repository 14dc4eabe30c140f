/// One CODESAGE_* variable: its name, type, default and meaning.
public struct SettingSpec: Sendable {
    /// The environment variable, e.g. `CODESAGE_MEMORY_LIMIT`.
    public let name: String
    /// How its value is parsed.
    public let kind: SettingKind
    /// The default as text (parsed like a user value), or nil when unset by default.
    public let defaultText: String?
    /// What the default means when it is not a literal (e.g. "number of CPUs").
    public let defaultNote: String?
    /// One line on what the setting does.
    public let summary: String

    init(_ name: String, _ kind: SettingKind, default defaultText: String?, note: String? = nil, _ summary: String) {
        self.name = name
        self.kind = kind
        self.defaultText = defaultText
        self.defaultNote = note
        self.summary = summary
    }
}

/// Every setting CodeSage reads. DESIGN.md §6 is the contract; docs/configuration.md is generated from the same words.
public enum SettingCatalog {
    /// Names of settings, so that code refers to them without string typos.
    public enum Name {
        public static let memoryLimit = "CODESAGE_MEMORY_LIMIT"
        public static let maxMemory = "CODESAGE_MAX_MEMORY_MB"
        public static let memoryMonitoring = "CODESAGE_ENABLE_MEMORY_MONITORING"
        public static let memoryCheckInterval = "CODESAGE_MEMORY_CHECK_INTERVAL"
        public static let modelCacheTTL = "CODESAGE_MODEL_CACHE_TTL_MINUTES"
        public static let modelQuantization = "CODESAGE_ENABLE_MODEL_QUANTIZATION"
        public static let memoryMappedIndexes = "CODESAGE_ENABLE_MEMORY_MAPPED_INDEXES"
        public static let embeddingCacheSize = "CODESAGE_EMBEDDING_CACHE_SIZE"
        public static let searchCacheSize = "CODESAGE_SEARCH_CACHE_SIZE"
        public static let fileCacheSize = "CODESAGE_FILE_CACHE_SIZE"
        public static let searchCacheSimilarity = "CODESAGE_SEARCH_CACHE_SIMILARITY"
        public static let indexCompression = "CODESAGE_INDEX_COMPRESSION"
        public static let indexCompressionType = "CODESAGE_INDEX_COMPRESSION_TYPE"
        public static let targetMemory = "CODESAGE_TARGET_MEMORY_MB"
        public static let indexDeltaLimit = "CODESAGE_INDEX_DELTA_LIMIT"
        public static let lexicalFirstChunks = "CODESAGE_INDEX_LEXICAL_FIRST_CHUNKS"
        public static let cacheCompression = "CODESAGE_CACHE_COMPRESSION"
        public static let compressionLevel = "CODESAGE_COMPRESSION_LEVEL"
        public static let aggressiveCleanup = "CODESAGE_AGGRESSIVE_MEMORY_CLEANUP"
        public static let parallelWorkers = "CODESAGE_PARALLEL_WORKERS"
        public static let adaptiveMemory = "CODESAGE_ADAPTIVE_MEMORY_ENABLED"
        public static let memoryTargetPercent = "CODESAGE_MEMORY_TARGET_PERCENT"
        public static let adaptiveInterval = "CODESAGE_ADAPTIVE_ADJUSTMENT_INTERVAL"
        public static let numaAware = "CODESAGE_NUMA_AWARE"
        public static let numaNode = "CODESAGE_NUMA_NODE"
        public static let threadAffinity = "CODESAGE_THREAD_AFFINITY"
        public static let embeddingPoolSize = "CODESAGE_EMBEDDING_POOL_SIZE"
        public static let indexPoolSize = "CODESAGE_INDEX_POOL_SIZE"
        public static let cachePoolSize = "CODESAGE_CACHE_POOL_SIZE"
        public static let indexDir = "CODESAGE_INDEX_DIR"
        public static let modelPath = "CODESAGE_MODEL_PATH"
        public static let logLevel = "CODESAGE_LOG_LEVEL"
        public static let maxFileSize = "CODESAGE_MAX_FILE_SIZE"
        public static let maxRequestSize = "CODESAGE_MAX_REQUEST_SIZE"
        public static let socketMode = "CODESAGE_SOCKET_MODE"
        public static let authToken = "CODESAGE_AUTH_TOKEN"
        public static let watch = "CODESAGE_WATCH"
        public static let watchDebounce = "CODESAGE_WATCH_DEBOUNCE_MS"
        public static let watchScanInterval = "CODESAGE_WATCH_SCAN_SECONDS"
        public static let watchMaxFolders = "CODESAGE_WATCH_MAX_FOLDERS"
    }

    /// Log levels, quietest last.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The whole table, in the order `codesage config` prints it.
    public static let all: [SettingSpec] = [
        // Memory budgets and the memory manager.
        SettingSpec(Name.memoryLimit, .size(minimumBytes: 64 << 20), default: "2GB",
                    "Per-process memory budget; the memory manager cleans up at 90 % of it (70 % when aggressive)."),
        SettingSpec(Name.maxMemory, .size(minimumBytes: 64 << 20), default: "8GB",
                    "Ceiling for a whole supervised deployment; the supervisor splits it across workers."),
        SettingSpec(Name.memoryMonitoring, .boolean, default: "true",
                    "Sample RSS/PSS/USS from /proc and enforce the budget."),
        SettingSpec(Name.memoryCheckInterval, .integer(1...86_400), default: "30",
                    "Seconds between memory samples."),
        SettingSpec(Name.aggressiveCleanup, .boolean, default: "false",
                    "Clean up at 70 % of the budget and drop caches entirely instead of shrinking them."),
        // The model.
        SettingSpec(Name.modelPath, .path, default: "~/.cache/codesage/models/all-MiniLM-L6-v2",
                    "Folder of the sentence-transformers model (config.json, model.safetensors, vocab.txt)."),
        SettingSpec(Name.modelCacheTTL, .fraction(0...525_600), default: "60",
                    "Minutes the encoder may stay idle before it is unloaded (0 = never unload; fractions allowed, 0.5 = 30 s)."),
        SettingSpec(Name.modelQuantization, .boolean, default: "false",
                    "Run the encoder on int8 weights (per-row scales) mapped from a file beside the model."),
        // The vector index.
        SettingSpec(Name.indexDir, .path, default: nil, note: "<root>/.codesage",
                    "Where the index of a root is stored."),
        SettingSpec(Name.memoryMappedIndexes, .choice(["auto", "true", "false"]), default: "auto",
                    "Memory-map the FAISS inverted lists; auto maps indexes larger than 100 MB."),
        SettingSpec(Name.indexCompression, .choice(["auto", "true", "false", "zstd"]), default: "auto",
                    "Vector compression: auto picks exact search while it fits CODESAGE_TARGET_MEMORY_MB; zstd means auto plus zstd for persistent data."),
        SettingSpec(Name.indexCompressionType, .choice(["auto", "flat", "sq8", "pq", "ivfpq"]), default: "auto",
                    "Which compressed index to build when compression is on."),
        SettingSpec(Name.targetMemory, .size(minimumBytes: 1 << 20), default: "512MB",
                    "Memory the vector index should fit in."),
        SettingSpec(Name.indexDeltaLimit, .integer(0...10_000_000), default: nil, note: "5 % of the base, 1,000 to 10,000",
                    "Vectors plus tombstones of the delta segment past which an update compacts it into a new base; 0 rebuilds the base on every update."),
        SettingSpec(Name.lexicalFirstChunks, .integer(1...100_000_000), default: "512",
                    "Chunks without vectors from which an index run publishes for keyword search first and embeds after (newest files first, publishing as it goes)."),
        // Caches.
        SettingSpec(Name.embeddingCacheSize, .integer(0...100_000_000), default: "5000",
                    "Entries in the in-memory embedding cache (content hash → vector)."),
        SettingSpec(Name.searchCacheSize, .integer(0...10_000_000), default: "1000",
                    "Entries in the search-result cache."),
        SettingSpec(Name.fileCacheSize, .integer(0...10_000_000), default: "100",
                    "Entries in the file-content cache."),
        SettingSpec(Name.searchCacheSimilarity, .fraction(0.5...1.0), default: "0.97",
                    "Cosine between query embeddings above which a cached search result is reused."),
        SettingSpec(Name.cacheCompression, .choice(["lz4", "zstd", "none"]), default: "lz4",
                    "Compression of in-memory cache data."),
        SettingSpec(Name.compressionLevel, .integer(1...19), default: "3",
                    "zstd level for persistent data (and for caches when CODESAGE_CACHE_COMPRESSION=zstd)."),
        SettingSpec(Name.adaptiveMemory, .boolean, default: "true",
                    "Resize caches toward CODESAGE_MEMORY_TARGET_PERCENT of the budget, favouring high hit rates."),
        SettingSpec(Name.memoryTargetPercent, .integer(1...100), default: "30",
                    "Share of the memory budget that all caches together should use."),
        SettingSpec(Name.adaptiveInterval, .integer(1...86_400), default: "60",
                    "Seconds between adaptive cache-size adjustments."),
        // Watching.
        SettingSpec(Name.watch, .boolean, default: "true",
                    "`serve` and `supervise` watch every root they serve (inotify) and keep its index current; `index` stays one-shot unless --watch."),
        SettingSpec(Name.watchDebounce, .integer(0...60_000), default: "200",
                    "Milliseconds without a new change before a watched root is updated (a burst of saves is one update)."),
        SettingSpec(Name.watchScanInterval, .integer(1...86_400), default: "5",
                    "Seconds between stat scans of a root that inotify cannot cover (watch limit reached)."),
        SettingSpec(Name.watchMaxFolders, .integer(1...100_000_000), default: nil, note: "the kernel's limit (fs.inotify.max_user_watches)",
                    "Most folders watched per root; a larger tree is stat-scanned instead (leaves inotify watches to other tools)."),
        // Pools.
        SettingSpec(Name.embeddingPoolSize, .integer(0...1024), default: "4",
                    "Preallocated embedding batch buffers."),
        SettingSpec(Name.indexPoolSize, .integer(0...1024), default: "8",
                    "Preallocated search-result buffers."),
        SettingSpec(Name.cachePoolSize, .integer(0...65_536), default: "64",
                    "Preallocated cache blocks."),
        // Processes and placement.
        SettingSpec(Name.parallelWorkers, .integer(1...1024), default: nil, note: "number of online CPUs",
                    "Worker processes for `supervise`, and embedding threads for `index`."),
        SettingSpec(Name.numaAware, .boolean, default: "true",
                    "Spread workers over NUMA nodes and bind their memory (a logged no-op on one node)."),
        SettingSpec(Name.numaNode, .integer(0...4095), default: nil, note: "unset (no fixed node)",
                    "Pin every worker to this NUMA node."),
        SettingSpec(Name.threadAffinity, .cpuAffinity, default: "auto",
                    "CPU binding of workers: auto, none, or a CPU list such as 0-3,8."),
        // Serving.
        SettingSpec(Name.maxFileSize, .size(minimumBytes: 1), default: "1MB",
                    "Files larger than this are skipped when indexing."),
        SettingSpec(Name.maxRequestSize, .size(minimumBytes: 1024), default: "1MB",
                    "Largest HTTP request body; larger bodies get 413."),
        SettingSpec(Name.socketMode, .fileMode, default: "0600",
                    "File mode of the Unix sockets that CodeSage creates."),
        SettingSpec(Name.authToken, .secret, default: nil, note: "unset (no token required)",
                    "Bearer token required on HTTP requests when set."),
        SettingSpec(Name.logLevel, .choice(logLevels), default: "info",
                    "Least severe log level written to stderr."),
    ]

    /// The spec for `name`, if CodeSage knows it.
    public static func spec(named name: String) -> SettingSpec? {
        all.first { $0.name == name }
    }
}
