/// Where a setting's value came from.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    /// The built-in default.
    case defaultValue
    /// The process environment.
    case environment
    /// A profile file given with `--env-file`.
    case envFile(String)
    /// A command-line flag.
    case flag

    public var description: String {
        switch self {
        case .defaultValue: return "default"
        case .environment: return "environment"
        case .envFile(let path): return "file:\(path)"
        case .flag: return "flag"
        }
    }
}

/// One setting after resolution: its spec, its value (nil when unset) and its source.
public struct ResolvedSetting: Sendable {
    /// The setting.
    public let spec: SettingSpec
    /// The parsed value; nil when the setting is unset and has no literal default.
    public let value: SettingValue?
    /// Where the value came from.
    public let source: SettingSource

    /// The value as shown to people: the value, or the meaning of the computed default.
    public var display: String {
        if let value { return value.display }
        return spec.defaultNote ?? "(unset)"
    }
}

/// Every CODESAGE_* setting, read and validated in one place, typed.
///
/// Precedence, highest first: a command-line flag, the process environment, a profile (`--env-file`), the default.
/// Nothing else in CodeSage reads the environment for settings.
public struct Configuration: Sendable {
    /// All settings in catalog order, with values and sources, for `codesage config`.
    public let settings: [ResolvedSetting]
    /// CODESAGE_* variables in the environment that CodeSage does not know (likely typos).
    public let unknownEnvironmentNames: [String]

    /// Resolves every setting.
    /// - Parameters:
    ///   - environment: the process environment (only CODESAGE_* keys are looked at).
    ///   - envFile: an optional profile.
    ///   - flags: values given by command-line flags, keyed by variable name.
    ///   - home: the home folder, for `~` in paths.
    ///   - onlineCPUs: the number of CPUs, the default worker count.
    /// - Throws: the first invalid value, naming the variable, the value and what is accepted.
    public init(environment: [String: String], envFile: EnvFile? = nil, flags: [String: String] = [:],
                home: String?, onlineCPUs: Int) throws(CodeSageError) {
        var settings: [ResolvedSetting] = []
        for spec in SettingCatalog.all {
            let text: String?
            let source: SettingSource
            if let flag = flags[spec.name] {
                (text, source) = (flag, .flag)
            } else if let env = environment[spec.name] {
                (text, source) = (env, .environment)
            } else if let file = envFile, let fromFile = file.values[spec.name] {
                (text, source) = (fromFile, .envFile(file.path))
            } else if spec.name == SettingCatalog.Name.parallelWorkers {
                (text, source) = (String(max(1, onlineCPUs)), .defaultValue)
            } else {
                (text, source) = (spec.defaultText, .defaultValue)
            }
            let value = try text.map { (raw) throws(CodeSageError) in try SettingParser.parse(raw, for: spec, home: home) }
            settings.append(ResolvedSetting(spec: spec, value: value, source: source))
        }
        for name in flags.keys where SettingCatalog.spec(named: name) == nil {
            throw CodeSageError(.internal, "flag maps to unknown setting \(name)")
        }
        self.settings = settings
        self.unknownEnvironmentNames = environment.keys
            .filter { $0.hasPrefix("CODESAGE_") && SettingCatalog.spec(named: $0) == nil && !Configuration.internalNames.contains($0) }
            .sorted()
    }

    /// Variables set by CodeSage itself for its child processes, not user settings.
    public static let internalNames: Set<String> = ["CODESAGE_REEXECUTED", "CODESAGE_WORKER_SLOT", "CODESAGE_SHM"]

    /// The resolved setting called `name`.
    public func setting(_ name: String) -> ResolvedSetting {
        guard let found = settings.first(where: { $0.spec.name == name }) else {
            preconditionFailure("unknown setting \(name): add it to SettingCatalog.all")
        }
        return found
    }

    // MARK: typed accessors (a precondition failure here is a catalog bug, not a user error)

    func bool(_ name: String) -> Bool {
        guard case .boolean(let value)? = setting(name).value else { preconditionFailure("\(name) is not a boolean") }
        return value
    }
    func int(_ name: String) -> Int {
        guard case .integer(let value)? = setting(name).value else { preconditionFailure("\(name) is not an integer") }
        return value
    }
    func optionalInt(_ name: String) -> Int? {
        guard let value = setting(name).value else { return nil }
        guard case .integer(let number) = value else { preconditionFailure("\(name) is not an integer") }
        return number
    }
    func bytes(_ name: String) -> UInt64 {
        guard case .bytes(let value)? = setting(name).value else { preconditionFailure("\(name) is not a size") }
        return value
    }
    func word(_ name: String) -> String {
        guard case .word(let value)? = setting(name).value else { preconditionFailure("\(name) is not a choice") }
        return value
    }
    func optionalPath(_ name: String) -> String? {
        guard let value = setting(name).value else { return nil }
        guard case .path(let path) = value else { preconditionFailure("\(name) is not a path") }
        return path
    }
}

extension Configuration {
    typealias N = SettingCatalog.Name

    /// Per-process memory budget in bytes.
    public var memoryLimitBytes: UInt64 { bytes(N.memoryLimit) }
    /// Whole-deployment memory ceiling in bytes.
    public var maxMemoryBytes: UInt64 { bytes(N.maxMemory) }
    /// Whether the memory monitor runs.
    public var memoryMonitoringEnabled: Bool { bool(N.memoryMonitoring) }
    /// Seconds between memory samples.
    public var memoryCheckIntervalSeconds: Int { int(N.memoryCheckInterval) }
    /// Clean up at 70 % and drop caches entirely.
    public var aggressiveMemoryCleanup: Bool { bool(N.aggressiveCleanup) }
    /// Fraction of the budget at which cleanup starts.
    public var cleanupThreshold: Double { aggressiveMemoryCleanup ? 0.70 : 0.90 }
    /// Folder of the embedding model.
    public var modelPath: String { optionalPath(N.modelPath)! }
    /// Idle minutes before the encoder is unloaded; 0 = never.
    public var modelCacheTTL: Duration {
        guard case .fraction(let minutes)? = setting(N.modelCacheTTL).value else { preconditionFailure() }
        return .milliseconds(Int((minutes * 60_000).rounded()))
    }
    /// Whether the encoder runs on int8 weights.
    public var modelQuantizationEnabled: Bool { bool(N.modelQuantization) }
    /// Explicit index folder, or nil for `<root>/.codesage`.
    public var indexDirectory: String? { optionalPath(N.indexDir) }
    /// Memory-mapping policy for the vector index.
    public var memoryMappedIndexes: MemoryMapPolicy { MemoryMapPolicy(rawValue: word(N.memoryMappedIndexes))! }
    /// Vector compression mode.
    public var indexCompression: IndexCompression { IndexCompression(rawValue: word(N.indexCompression))! }
    /// Which compressed index type to build.
    public var indexCompressionType: IndexCompressionType { IndexCompressionType(rawValue: word(N.indexCompressionType))! }
    /// Memory the vector index should fit in, in bytes.
    public var targetMemoryBytes: UInt64 { bytes(N.targetMemory) }
    /// Delta vectors plus tombstones past which an update compacts (nil: the indexer's policy; 0: no delta).
    public var indexDeltaLimit: Int? { optionalInt(N.indexDeltaLimit) }
    /// Chunks without vectors from which a run publishes for keyword search before embedding them.
    public var lexicalFirstChunks: Int { int(N.lexicalFirstChunks) }
    /// Entries in the embedding cache.
    public var embeddingCacheSize: Int { int(N.embeddingCacheSize) }
    /// Entries in the search cache.
    public var searchCacheSize: Int { int(N.searchCacheSize) }
    /// Entries in the file cache.
    public var fileCacheSize: Int { int(N.fileCacheSize) }
    /// Cosine threshold for near-duplicate search-cache hits.
    public var searchCacheSimilarity: Double {
        guard case .fraction(let value)? = setting(N.searchCacheSimilarity).value else { preconditionFailure() }
        return value
    }
    /// Compression of in-memory cache data.
    public var cacheCompression: CacheCompression { CacheCompression(rawValue: word(N.cacheCompression))! }
    /// zstd compression level.
    public var compressionLevel: Int { int(N.compressionLevel) }
    /// Whether caches are resized adaptively.
    public var adaptiveMemoryEnabled: Bool { bool(N.adaptiveMemory) }
    /// Share of the budget for all caches, in percent.
    public var memoryTargetPercent: Int { int(N.memoryTargetPercent) }
    /// Seconds between adaptive adjustments.
    public var adaptiveAdjustmentIntervalSeconds: Int { int(N.adaptiveInterval) }
    /// Embedding batch buffers in the pool.
    public var embeddingPoolSize: Int { int(N.embeddingPoolSize) }
    /// Search-result buffers in the pool.
    public var indexPoolSize: Int { int(N.indexPoolSize) }
    /// Cache blocks in the pool.
    public var cachePoolSize: Int { int(N.cachePoolSize) }
    /// Worker processes for `supervise`.
    public var parallelWorkers: Int { int(N.parallelWorkers) }
    /// Whether workers are spread over NUMA nodes.
    public var numaAware: Bool { bool(N.numaAware) }
    /// A fixed NUMA node for every worker, if set.
    public var numaNode: Int? { optionalInt(N.numaNode) }
    /// CPU binding of workers.
    public var threadAffinity: CPUAffinity {
        guard case .affinity(let value)? = setting(N.threadAffinity).value else { preconditionFailure() }
        return value
    }
    /// Whether servers watch their roots and keep their indexes current.
    public var watchEnabled: Bool { bool(N.watch) }
    /// Quiet time after the last change before a watched root is updated.
    public var watchDebounce: Duration { .milliseconds(int(N.watchDebounce)) }
    /// Seconds between stat scans of a root without inotify coverage.
    public var watchScanInterval: Duration { .seconds(int(N.watchScanInterval)) }
    /// Most folders watched per root, nil for the kernel's limit.
    public var watchMaxFolders: Int? { optionalInt(N.watchMaxFolders) }
    /// Largest file that is indexed, in bytes.
    public var maxFileSizeBytes: UInt64 { bytes(N.maxFileSize) }
    /// Largest HTTP request body, in bytes.
    public var maxRequestBytes: UInt64 { bytes(N.maxRequestSize) }
    /// File mode of created Unix sockets.
    public var socketMode: UInt32 {
        guard case .mode(let value)? = setting(N.socketMode).value else { preconditionFailure() }
        return value
    }
    /// The bearer token HTTP clients must send, if set.
    public var authToken: String? {
        guard case .secret(let value)? = setting(N.authToken).value else { return nil }
        return value
    }
    /// Least severe log level written.
    public var logLevel: String { word(N.logLevel) }
}

/// When the vector index is memory-mapped.
public enum MemoryMapPolicy: String, Sendable {
    /// Map indexes larger than 100 MB.
    case auto
    /// Always map.
    case `true`
    /// Never map.
    case `false`
}

/// Vector compression mode (CODESAGE_INDEX_COMPRESSION).
public enum IndexCompression: String, Sendable {
    /// Exact while it fits the target memory, compressed beyond.
    case auto
    /// Always compress.
    case `true`
    /// Never compress.
    case `false`
    /// Auto, plus zstd for persistent data (the seed documentation's spelling).
    case zstd
}

/// Which compressed index to build (CODESAGE_INDEX_COMPRESSION_TYPE).
public enum IndexCompressionType: String, Sendable {
    case auto, flat, sq8, pq, ivfpq
}

/// Compression of in-memory cache data (CODESAGE_CACHE_COMPRESSION).
public enum CacheCompression: String, Sendable {
    case lz4, zstd, none
}
