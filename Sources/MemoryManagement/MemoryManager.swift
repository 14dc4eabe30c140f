import Buffers
import Caching
import CodeSageCore
import Foundation
import Platform
import Synchronization

/// Samples this process's memory from /proc and cleans up when it nears its budget.
///
/// Every `interval` (CODESAGE_MEMORY_CHECK_INTERVAL) it reads RSS, PSS, USS, shared and swap. When
/// RSS reaches `threshold` × `limitBytes` (90 %, or 70 % with CODESAGE_AGGRESSIVE_MEMORY_CLEANUP) it
/// cleans up, in order of what is cheapest to get back: the model if idle, every registered cache
/// (halved toward its floor; emptied when aggressive), idle pool buffers, then `malloc_trim(0)`.
/// Each cleanup is recorded with its reason and the RSS before and after.
public final class MemoryManager: Sendable {
    /// What the manager enforces.
    public struct Policy: Sendable {
        /// The budget (CODESAGE_MEMORY_LIMIT).
        public var limitBytes: UInt64
        /// Clean up at 70 % of the budget and empty caches instead of shrinking them.
        public var aggressive: Bool
        /// Seconds between samples (CODESAGE_MEMORY_CHECK_INTERVAL).
        public var interval: Duration
        /// A cache is not shrunk below this many bytes by a non-aggressive cleanup.
        public var cacheFloorBytes: Int

        public init(limitBytes: UInt64, aggressive: Bool = false, interval: Duration = .seconds(30), cacheFloorBytes: Int = 1 << 20) {
            self.limitBytes = limitBytes
            self.aggressive = aggressive
            self.interval = interval
            self.cacheFloorBytes = cacheFloorBytes
        }

        /// The fraction of the budget at which cleanup starts.
        public var threshold: Double { aggressive ? 0.70 : 0.90 }
        /// RSS in bytes at which cleanup starts.
        public var thresholdBytes: UInt64 { UInt64(Double(limitBytes) * threshold) }
    }

    /// One cleanup: when, why, what it did and what it freed.
    public struct Cleanup: Sendable, Encodable, Equatable {
        /// Wall-clock time, ISO 8601.
        public var time: String
        /// Why it ran ("RSS 123.4 MB ≥ 90 % of the 128 MB limit", "requested").
        public var reason: String
        public var rssBeforeBytes: UInt64
        public var rssAfterBytes: UInt64
        /// Bytes held by the registered caches before and after.
        public var cacheBytesBefore: Int
        public var cacheBytesAfter: Int
        /// Whether the model was unloaded.
        public var modelUnloaded: Bool
        /// Bytes of idle pool buffers freed.
        public var poolBytesReleased: Int
        /// Whether malloc_trim gave memory back to the kernel.
        public var trimmed: Bool
        /// Milliseconds the cleanup took.
        public var milliseconds: Double

        /// RSS before minus RSS after (0 when it grew meanwhile).
        public var freedBytes: UInt64 { rssBeforeBytes > rssAfterBytes ? rssBeforeBytes - rssAfterBytes : 0 }
    }

    /// Unloads the model: `aggressive` unloads it whenever no call holds it; otherwise only
    /// when it has been idle for `idleFor`. Returns whether it unloaded.
    public typealias ModelUnloader = @Sendable (_ aggressive: Bool, _ idleFor: Duration) -> Bool

    struct State {
        var caches: [any ManagedCache] = []
        var pools: [BufferPool] = []
        var poolSources: [@Sendable () -> [BufferPool]] = []
        var unloadModel: ModelUnloader?
        var last: ProcessMemory?
        var samples = 0
        var cleanups = 0
        var history: [Cleanup] = []
    }

    /// How many cleanups are kept in `history` (the count covers all).
    public static let historyLength = 32

    public let policy: Policy
    private let sample: @Sendable () throws(CodeSageError) -> ProcessMemory
    private let state = Mutex(State())
    private let timer = TimerSlot()
    /// Serialises checks and cleanups (a timer tick and a request never clean up at once).
    private let cleaning = Mutex(())

    /// A manager enforcing `policy`; `sample` reads the process's memory (the kernel's /proc by default).
    public init(policy: Policy, sample: @escaping @Sendable () throws(CodeSageError) -> ProcessMemory = { () throws(CodeSageError) in try ProcessMemory.read() }) {
        self.policy = policy
        self.sample = sample
    }

    deinit { stop() }

    /// Adds a cache that cleanups shrink.
    public func register(cache: any ManagedCache) { state.withLock { $0.caches.append(cache) } }
    /// Adds a pool whose idle surplus cleanups release.
    public func register(pool: BufferPool) { state.withLock { $0.pools.append(pool) } }
    /// Adds pools found at cleanup time (those of a model loaded later, for instance).
    public func register(poolSource: @escaping @Sendable () -> [BufferPool]) { state.withLock { $0.poolSources.append(poolSource) } }
    /// Sets how cleanups unload the model.
    public func register(modelUnloader: @escaping ModelUnloader) { state.withLock { $0.unloadModel = modelUnloader } }

    /// Samples memory; cleans up if RSS is at or over the threshold. Returns the cleanup, if one ran.
    @discardableResult
    public func check() -> Cleanup? {
        cleaning.withLock { _ in
            guard let memory = try? sample() else { return nil }
            state.withLock { $0.last = memory; $0.samples += 1 }
            guard memory.rss >= policy.thresholdBytes else { return nil }
            let reason = String(format: "RSS %.1f MB ≥ %.0f %% of the %.0f MB limit", Double(memory.rss) / 1_048_576,
                                policy.threshold * 100, Double(policy.limitBytes) / 1_048_576)
            return cleanUpLocked(reason: reason, before: memory)
        }
    }

    /// Cleans up now, whatever the memory figures (clear_cache, tests).
    @discardableResult
    public func cleanUp(reason: String) -> Cleanup {
        cleaning.withLock { _ in
            let before = (try? sample()) ?? ProcessMemory()
            return cleanUpLocked(reason: reason, before: before)
        }
    }

    private func cleanUpLocked(reason: String, before: ProcessMemory) -> Cleanup {
        let started = ContinuousClock.now
        let (caches, fixedPools, sources, unload) = state.withLock { ($0.caches, $0.pools, $0.poolSources, $0.unloadModel) }
        let pools = fixedPools + sources.flatMap { $0() }
        let cacheBefore = caches.reduce(0) { $0 + $1.statistics().bytes }
        let modelUnloaded = unload?(policy.aggressive, policy.interval) ?? false
        for cache in caches {
            if policy.aggressive {
                cache.removeAll()
            } else {
                let bytes = cache.statistics().bytes
                cache.shrink(toBytes: max(policy.cacheFloorBytes, bytes / 2))
            }
        }
        let poolBytes = pools.reduce(0) { $0 + $1.releaseIdle() }
        let cacheAfter = caches.reduce(0) { $0 + $1.statistics().bytes }
        let trimmed = ProcessMemory.releaseFreedMemory()
        let after = (try? sample()) ?? before
        let elapsed = ContinuousClock.now - started
        let cleanup = Cleanup(
            time: Date().ISO8601Format(), reason: reason, rssBeforeBytes: before.rss, rssAfterBytes: after.rss,
            cacheBytesBefore: cacheBefore, cacheBytesAfter: cacheAfter, modelUnloaded: modelUnloaded,
            poolBytesReleased: poolBytes, trimmed: trimmed,
            milliseconds: Double(elapsed.components.attoseconds / 1_000_000_000_000) / 1000 + Double(elapsed.components.seconds) * 1000)
        state.withLock { s in
            s.last = after
            s.cleanups += 1
            s.history.append(cleanup)
            if s.history.count > Self.historyLength { s.history.removeFirst(s.history.count - Self.historyLength) }
        }
        return cleanup
    }

    /// Starts sampling every `policy.interval` on a Dispatch timer (it fires even while synchronous
    /// work occupies Swift's cooperative threads); replaces a running timer.
    public func start() {
        timer.start(interval: policy.interval) { [weak self] in self?.check() }
    }

    /// Stops the sampling timer.
    public func stop() {
        timer.stop()
    }

    /// The manager's counters for get_memory_stats.
    public struct Report: Sendable, Encodable {
        public var limitBytes: UInt64
        public var thresholdBytes: UInt64
        public var aggressive: Bool
        public var intervalSeconds: Double
        public var monitoring: Bool
        public var samples: Int
        public var cleanups: Int
        public var lastCleanup: Cleanup?
        public var recentCleanups: [Cleanup]
    }

    /// Counters and the recent cleanups.
    public func report() -> Report {
        state.withLock { s in
            Report(limitBytes: policy.limitBytes, thresholdBytes: policy.thresholdBytes, aggressive: policy.aggressive,
                   intervalSeconds: Double(policy.interval.components.seconds) + Double(policy.interval.components.attoseconds) / 1e18,
                   monitoring: timer.isRunning, samples: s.samples, cleanups: s.cleanups,
                   lastCleanup: s.history.last, recentCleanups: s.history)
        }
    }

    /// The memory figures of the latest sample (nil before the first).
    public var lastSample: ProcessMemory? { state.withLock { $0.last } }
}
