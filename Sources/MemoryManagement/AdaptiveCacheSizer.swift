import Caching
import Foundation
import Platform
import Synchronization

/// Moves the caches' byte budgets toward a target total (CODESAGE_MEMORY_TARGET_PERCENT of the
/// memory limit), giving more to the caches whose recent lookups hit most.
///
/// At each adjustment, over the lookups since the previous one: every cache keeps a floor of
/// `floorShare` of the target; the rest is split in proportion to `hit rate + 0.01` of caches that
/// were looked up (a cache nobody asked keeps only its floor). With no lookups at all the budgets
/// stay as they are. Each change of more than 1 % is recorded as a decision.
public final class AdaptiveCacheSizer: Sendable {
    /// A cache under the sizer, and the setting that bounds its entries (named in recommendations).
    public struct Member: Sendable {
        public let cache: any ManagedCache
        public let setting: String
        public init(cache: any ManagedCache, setting: String) {
            self.cache = cache
            self.setting = setting
        }
    }

    /// One budget change.
    public struct Decision: Sendable, Encodable, Equatable {
        public var time: String
        public var cache: String
        public var fromBytes: Int
        public var toBytes: Int
        /// Hits / lookups since the previous adjustment.
        public var windowHitRate: Double
        public var windowLookups: Int
        public var reason: String
    }

    /// Share of the target every cache keeps, used or not.
    public let floorShare: Double
    public let targetBytes: Int
    private let members: [Member]
    private let state = Mutex(State())
    private let timer = TimerSlot()

    struct State {
        var previous: [String: CacheStatistics] = [:]
        var decisions: [Decision] = []
        var adjustments = 0
    }

    /// How many decisions are kept.
    public static let historyLength = 64

    public init(members: [Member], targetBytes: Int, floorShare: Double = 0.05) {
        self.members = members
        self.targetBytes = max(0, targetBytes)
        self.floorShare = floorShare
        // Start from an even split.
        let even = members.isEmpty ? 0 : self.targetBytes / members.count
        for m in members { m.cache.setByteBudget(even) }
        state.withLock { s in for m in members { s.previous[m.cache.name] = m.cache.statistics() } }
    }

    deinit { stop() }

    /// Re-divides the target over the caches from the lookups since the last call; returns the decisions made.
    @discardableResult
    public func adjust() -> [Decision] {
        let now = members.map { $0.cache.statistics() }
        return state.withLock { s in
            s.adjustments += 1
            var windows: [(hits: Int, lookups: Int)] = []
            for stats in now {
                let before = s.previous[stats.name] ?? CacheStatistics(name: stats.name)
                let hits = max(0, stats.hits - before.hits), misses = max(0, stats.misses - before.misses)
                windows.append((hits, hits + misses))
                s.previous[stats.name] = stats
            }
            guard windows.contains(where: { $0.lookups > 0 }), !members.isEmpty else { return [] }
            let floor = Int(Double(targetBytes) * floorShare)
            let spare = max(0, targetBytes - floor * members.count)
            let weights = windows.map { $0.lookups > 0 ? Double($0.hits) / Double($0.lookups) + 0.01 : 0 }
            let total = weights.reduce(0, +)
            var made: [Decision] = []
            for (i, member) in members.enumerated() {
                let budget = floor + (total > 0 ? Int(Double(spare) * weights[i] / total) : 0)
                let old = now[i].capacityBytes
                member.cache.setByteBudget(budget)
                guard abs(Double(budget - old)) > 0.01 * Double(max(old, 1)) else { continue }
                let rate = windows[i].lookups > 0 ? Double(windows[i].hits) / Double(windows[i].lookups) : 0
                let reason = windows[i].lookups == 0
                    ? "no lookups since the last adjustment: floor only"
                    : String(format: "%.0f %% of %d lookups hit: %.0f %% of the spare budget", rate * 100, windows[i].lookups,
                             total > 0 ? weights[i] / total * 100 : 0)
                made.append(Decision(time: Date().ISO8601Format(), cache: now[i].name, fromBytes: old, toBytes: budget,
                                     windowHitRate: (rate * 1000).rounded() / 1000, windowLookups: windows[i].lookups, reason: reason))
            }
            s.decisions.append(contentsOf: made)
            if s.decisions.count > Self.historyLength { s.decisions.removeFirst(s.decisions.count - Self.historyLength) }
            return made
        }
    }

    /// Advice per cache from its counters since start-up.
    public func recommendations() -> [String] {
        members.map { member in
            let s = member.cache.statistics()
            let lookups = s.hits + s.misses
            let rate = String(format: "%.0f %%", s.hitRate * 100)
            if lookups < 20 {
                return "\(s.name): \(lookups) lookups so far, too few to judge"
            }
            if s.evictions > 0 && s.hitRate >= 0.3 && s.capacityEntries > 0 && s.entries >= s.capacityEntries {
                return "\(s.name): \(rate) hit rate and \(s.evictions) evictions at its entry bound (\(s.capacityEntries)): raise \(member.setting)"
            }
            if s.evictions > 0 && s.hitRate >= 0.3 && Double(s.bytes) >= 0.9 * Double(s.capacityBytes) {
                return "\(s.name): \(rate) hit rate and \(s.evictions) evictions at its byte budget (\(s.capacityBytes) bytes): raise CODESAGE_MEMORY_TARGET_PERCENT or CODESAGE_MEMORY_LIMIT"
            }
            if s.hitRate < 0.05 && lookups >= 100 {
                return "\(s.name): \(rate) hit rate over \(lookups) lookups; its \(s.bytes) bytes buy little: lower \(member.setting)"
            }
            return "\(s.name): \(rate) hit rate over \(lookups) lookups, \(s.entries) entries in \(s.bytes) of \(s.capacityBytes) bytes: no change needed"
        }
    }

    /// Decisions made so far (the newest `historyLength`) and how many adjustments ran.
    public func history() -> (adjustments: Int, decisions: [Decision]) {
        state.withLock { ($0.adjustments, $0.decisions) }
    }

    /// Adjusts every `interval` on a Dispatch timer; replaces a running one.
    public func start(interval: Duration) {
        timer.start(interval: interval) { [weak self] in self?.adjust() }
    }

    /// Stops the timer.
    public func stop() {
        timer.stop()
    }
}
