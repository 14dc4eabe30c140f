/// Counters and sizes of one in-memory cache, as `get_cache_statistics` reports them.
public struct CacheStatistics: Sendable, Equatable, Encodable {
    /// The cache's name ("embedding", "search", "file", ...).
    public var name: String
    /// Lookups answered from the cache.
    public var hits = 0
    /// Lookups that found nothing usable.
    public var misses = 0
    /// Entries removed to make room (capacity, byte budget or a memory cleanup).
    public var evictions = 0
    /// Entries now held.
    public var entries = 0
    /// Bytes now held (keys, values and bookkeeping, as each cache accounts them).
    public var bytes = 0
    /// Most entries held (CODESAGE_*_CACHE_SIZE).
    public var capacityEntries = 0
    /// Most bytes held: the budget the adaptive sizer or a cleanup set.
    public var capacityBytes = 0

    /// A cache's statistics with every counter at zero.
    public init(name: String) { self.name = name }

    /// hits / (hits + misses), 0 before the first lookup.
    public var hitRate: Double {
        let lookups = hits + misses
        return lookups == 0 ? 0 : Double(hits) / Double(lookups)
    }

    /// Mean bytes per held entry (0 when empty).
    public var bytesPerEntry: Double { entries == 0 ? 0 : Double(bytes) / Double(entries) }

    enum CodingKeys: String, CodingKey {
        case name, hits, misses, evictions, entries, bytes, capacityEntries, capacityBytes, hitRate, bytesPerEntry
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(hits, forKey: .hits)
        try c.encode(misses, forKey: .misses)
        try c.encode(evictions, forKey: .evictions)
        try c.encode(entries, forKey: .entries)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(capacityEntries, forKey: .capacityEntries)
        try c.encode(capacityBytes, forKey: .capacityBytes)
        try c.encode((hitRate * 10_000).rounded() / 10_000, forKey: .hitRate)
        try c.encode(bytesPerEntry.rounded(), forKey: .bytesPerEntry)
    }
}

/// A cache the memory manager and the adaptive sizer can inspect and shrink.
public protocol ManagedCache: AnyObject, Sendable {
    /// Name used in reports.
    var name: String { get }
    /// Current counters and sizes.
    func statistics() -> CacheStatistics
    /// Sets the byte budget, evicting least recently used entries until the cache fits.
    func setByteBudget(_ bytes: Int)
    /// Evicts least recently used entries until at most `bytes` are held (the budget is unchanged).
    func shrink(toBytes bytes: Int)
    /// Drops every entry; returns how many there were.
    @discardableResult func removeAll() -> Int
}
