import Synchronization

/// A thread-safe least-recently-used cache bounded by an entry count and a byte budget.
///
/// Each entry has a cost in bytes given at insertion (its value's size plus `entryOverhead`);
/// inserting past either bound evicts from the least recently used end. Lookups move an entry to
/// the most recently used end. An entry larger than the whole budget is not stored.
public final class LRUCache<Key: Hashable & Sendable, Value: Sendable>: ManagedCache, Sendable {
    /// Bytes charged per entry on top of the value's own cost: dictionary slot, list links, key.
    public let entryOverhead: Int
    public let name: String
    private let state: Mutex<Storage>

    /// - Parameters:
    ///   - maxEntries: most entries held (0 disables the cache).
    ///   - byteBudget: most bytes held (adjusted later by `setByteBudget`).
    public init(name: String, maxEntries: Int, byteBudget: Int = .max, entryOverhead: Int = 96) {
        self.name = name
        self.entryOverhead = entryOverhead
        state = Mutex(Storage(maxEntries: max(0, maxEntries), byteBudget: max(0, byteBudget)))
    }

    /// The value for `key`, marking it most recently used; counts a hit or (when `countingMiss`) a miss.
    public func value(forKey key: Key, countingMiss: Bool = true) -> Value? {
        state.withLock { s in
            guard let slot = s.index[key] else {
                if countingMiss { s.stats.misses += 1 }
                return nil
            }
            s.stats.hits += 1
            s.moveToFront(slot)
            return s.values[slot]
        }
    }

    /// The most recently used entry that satisfies `predicate` (evaluated under the cache's lock,
    /// most recent first); counts a hit when found and marks it most recently used. No miss is counted.
    public func firstEntry(where predicate: (Key, Value) -> Bool) -> (key: Key, value: Value)? {
        state.withLock { s in
            var slot = s.head
            while slot >= 0 {
                if let key = s.keys[slot], let value = s.values[slot], predicate(key, value) {
                    s.stats.hits += 1
                    s.moveToFront(slot)
                    return (key, value)
                }
                slot = s.next[slot]
            }
            return nil
        }
    }

    /// Counts a miss (for callers whose lookup has several stages).
    public func recordMiss() { state.withLock { $0.stats.misses += 1 } }

    /// Stores `value` under `key` with a cost of `cost + entryOverhead` bytes, replacing an older
    /// value, and evicts least recently used entries until both bounds hold. Returns whether it was stored.
    @discardableResult
    public func insert(_ value: Value, forKey key: Key, cost: Int) -> Bool {
        let charged = max(0, cost) + entryOverhead
        return state.withLock { s in
            if let old = s.index[key] { s.unlink(old, evicted: false) }
            guard s.maxEntries > 0, charged <= s.byteBudget else { return false }
            s.evict(toEntries: s.maxEntries - 1, bytes: s.byteBudget - charged)
            s.link(key: key, value: value, cost: charged)
            return true
        }
    }

    /// Removes the entry for `key`; returns whether there was one.
    @discardableResult
    public func removeValue(forKey key: Key) -> Bool {
        state.withLock { s in
            guard let slot = s.index[key] else { return false }
            s.unlink(slot, evicted: false)
            return true
        }
    }

    /// Removes every entry whose key satisfies `predicate`; returns how many.
    @discardableResult
    public func removeAll(where predicate: (Key) -> Bool) -> Int {
        state.withLock { s in
            let doomed = s.index.filter { predicate($0.key) }.map(\.value)
            for slot in doomed { s.unlink(slot, evicted: false) }
            return doomed.count
        }
    }

    @discardableResult
    public func removeAll() -> Int {
        state.withLock { s in
            let count = s.index.count
            s.reset()
            return count
        }
    }

    public func statistics() -> CacheStatistics {
        state.withLock { s in
            var stats = s.stats
            stats.name = name
            stats.entries = s.index.count
            stats.bytes = s.bytes
            stats.capacityEntries = s.maxEntries
            stats.capacityBytes = s.byteBudget
            return stats
        }
    }

    public func setByteBudget(_ bytes: Int) {
        state.withLock { s in
            s.byteBudget = max(0, bytes)
            s.evict(toEntries: s.maxEntries, bytes: s.byteBudget)
        }
    }

    public func shrink(toBytes bytes: Int) {
        state.withLock { s in s.evict(toEntries: s.maxEntries, bytes: max(0, bytes)) }
    }

    /// Keys from most to least recently used (for tests and reports).
    public func keysByRecency() -> [Key] {
        state.withLock { s in
            var keys: [Key] = []
            var slot = s.head
            while slot >= 0 { keys.append(s.keys[slot]!); slot = s.next[slot] }
            return keys
        }
    }

    /// A doubly linked list over parallel arrays (slots reused through a free list) plus a key index.
    struct Storage: ~Copyable {
        var maxEntries: Int
        var byteBudget: Int
        var index: [Key: Int] = [:]
        var keys: [Key?] = []
        var values: [Value?] = []
        var costs: [Int] = []
        var prev: [Int] = []
        var next: [Int] = []
        var free: [Int] = []
        var head = -1, tail = -1
        var bytes = 0
        var stats = CacheStatistics(name: "")

        init(maxEntries: Int, byteBudget: Int) {
            self.maxEntries = maxEntries
            self.byteBudget = byteBudget
        }

        mutating func link(key: Key, value: Value, cost: Int) {
            let slot: Int
            if let reused = free.popLast() {
                slot = reused
                keys[slot] = key; values[slot] = value; costs[slot] = cost
            } else {
                slot = keys.count
                keys.append(key); values.append(value); costs.append(cost); prev.append(-1); next.append(-1)
            }
            index[key] = slot
            bytes += cost
            prev[slot] = -1
            next[slot] = head
            if head >= 0 { prev[head] = slot }
            head = slot
            if tail < 0 { tail = slot }
        }

        mutating func detach(_ slot: Int) {
            if prev[slot] >= 0 { next[prev[slot]] = next[slot] } else { head = next[slot] }
            if next[slot] >= 0 { prev[next[slot]] = prev[slot] } else { tail = prev[slot] }
            prev[slot] = -1; next[slot] = -1
        }

        mutating func moveToFront(_ slot: Int) {
            guard head != slot else { return }
            detach(slot)
            next[slot] = head
            if head >= 0 { prev[head] = slot }
            head = slot
            if tail < 0 { tail = slot }
        }

        mutating func unlink(_ slot: Int, evicted: Bool) {
            detach(slot)
            index[keys[slot]!] = nil
            keys[slot] = nil; values[slot] = nil
            bytes -= costs[slot]
            costs[slot] = 0
            free.append(slot)
            if evicted { stats.evictions += 1 }
        }

        mutating func evict(toEntries entries: Int, bytes limit: Int) {
            while tail >= 0 && (index.count > max(0, entries) || bytes > limit) { unlink(tail, evicted: true) }
        }

        mutating func reset() {
            stats.evictions += index.count
            index.removeAll(); keys.removeAll(); values.removeAll(); costs.removeAll()
            prev.removeAll(); next.removeAll(); free.removeAll()
            head = -1; tail = -1; bytes = 0
        }
    }
}
