import Caching
import Testing

@Suite("LRU cache")
struct LRUCacheTests {
    @Test("evicts the least recently used entry at the entry bound; lookups refresh recency")
    func entryBound() {
        let cache = LRUCache<String, Int>(name: "t", maxEntries: 3, entryOverhead: 0)
        for (i, k) in ["a", "b", "c"].enumerated() { cache.insert(i, forKey: k, cost: 1) }
        #expect(cache.value(forKey: "a") == 0)          // a is now most recent
        cache.insert(3, forKey: "d", cost: 1)             // evicts b
        #expect(cache.keysByRecency() == ["d", "a", "c"])
        #expect(cache.value(forKey: "b") == nil)
        let s = cache.statistics()
        #expect(s.hits == 1 && s.misses == 1 && s.evictions == 1 && s.entries == 3 && s.bytes == 3)
    }

    @Test("the byte budget holds after inserts, budget changes and shrinks; oversized values are not stored")
    func byteBudget() {
        let cache = LRUCache<Int, [UInt8]>(name: "t", maxEntries: 100, byteBudget: 1_000, entryOverhead: 10)
        for i in 0..<20 { cache.insert([UInt8](repeating: 0, count: 90), forKey: i, cost: 90) }
        var s = cache.statistics()
        #expect(s.bytes <= 1_000 && s.entries == 10 && s.evictions == 10)
        #expect(!cache.insert([], forKey: 99, cost: 5_000))
        cache.setByteBudget(300)
        s = cache.statistics()
        #expect(s.entries == 3 && s.bytes == 300 && s.capacityBytes == 300)
        #expect(cache.keysByRecency() == [19, 18, 17])
        cache.shrink(toBytes: 100)
        #expect(cache.keysByRecency() == [19] && cache.statistics().capacityBytes == 300)
    }

    @Test("replacing a key keeps one entry and its new cost; removal and invalidation by predicate")
    func replaceAndRemove() {
        let cache = LRUCache<String, Int>(name: "t", maxEntries: 10, entryOverhead: 0)
        cache.insert(1, forKey: "x", cost: 5)
        cache.insert(2, forKey: "x", cost: 7)
        #expect(cache.statistics().entries == 1 && cache.statistics().bytes == 7)
        cache.insert(3, forKey: "g1/a", cost: 1)
        cache.insert(4, forKey: "g1/b", cost: 1)
        #expect(cache.removeAll(where: { $0.hasPrefix("g1/") }) == 2)
        #expect(cache.removeValue(forKey: "x") && cache.statistics().entries == 0 && cache.statistics().bytes == 0)
        #expect(cache.firstEntry(where: { _, _ in true }) == nil)
    }

    @Test("a random workload agrees with a plain reference model of LRU")
    func againstReference() {
        var rng = SystemRandomNumberGenerator()
        let cache = LRUCache<Int, Int>(name: "t", maxEntries: 8, byteBudget: 50, entryOverhead: 1)
        var reference: [(key: Int, value: Int, cost: Int)] = []  // most recent first
        for step in 0..<5_000 {
            let key = Int.random(in: 0..<20, using: &rng)
            if Bool.random(using: &rng) {
                let cost = Int.random(in: 0..<12, using: &rng)
                cache.insert(step, forKey: key, cost: cost)
                reference.removeAll { $0.key == key }
                reference.insert((key, step, cost + 1), at: 0)
                while reference.count > 8 || reference.reduce(0, { $0 + $1.cost }) > 50 { reference.removeLast() }
            } else {
                let got = cache.value(forKey: key)
                if let i = reference.firstIndex(where: { $0.key == key }) {
                    #expect(got == reference[i].value)
                    reference.insert(reference.remove(at: i), at: 0)
                } else {
                    #expect(got == nil)
                }
            }
            #expect(cache.keysByRecency() == reference.map(\.key))
        }
    }
}
