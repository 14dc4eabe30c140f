import Buffers
import Caching
import CodeSageCore
import Foundation
import MemoryManagement
import Platform
import Synchronization
import Testing

/// Memory figures a test controls.
final class FakeMemory: Sendable {
    let rss = Mutex<UInt64>(0)
    func sample() -> ProcessMemory { var m = ProcessMemory(); m.rss = rss.withLock { $0 }; return m }
}

@Suite("Memory manager")
struct MemoryManagerTests {
    static func filledCache(_ name: String, entries: Int, bytesEach: Int) -> LRUCache<Int, [UInt8]> {
        let cache = LRUCache<Int, [UInt8]>(name: name, maxEntries: 10_000, entryOverhead: 0)
        for i in 0..<entries { cache.insert([UInt8](repeating: 1, count: bytesEach), forKey: i, cost: bytesEach) }
        return cache
    }

    @Test("below the threshold nothing happens; at 90 % caches are halved toward the floor and the idle model unloaded")
    func threshold() {
        let memory = FakeMemory()
        let manager = MemoryManager(policy: .init(limitBytes: 1_000_000, cacheFloorBytes: 10_000)) { memory.sample() }
        let cache = Self.filledCache("c", entries: 100, bytesEach: 1_000)
        let unloads = Mutex(0)
        manager.register(cache: cache)
        manager.register { aggressive, _ in unloads.withLock { $0 += 1 }; return !aggressive }
        memory.rss.withLock { $0 = 899_000 }
        #expect(manager.check() == nil)
        memory.rss.withLock { $0 = 900_000 }
        let cleanup = manager.check()
        #expect(cleanup != nil)
        #expect(cache.statistics().bytes == 50_000)
        #expect(cleanup?.cacheBytesBefore == 100_000 && cleanup?.cacheBytesAfter == 50_000 && cleanup?.modelUnloaded == true)
        for _ in 0..<10 { manager.check() }
        #expect(cache.statistics().bytes == 10_000)  // the floor
        let report = manager.report()
        #expect(report.cleanups == 11 && report.samples == 12 && report.lastCleanup?.reason.contains("90 %") == true)
        #expect(unloads.withLock { $0 } == 11)
    }

    @Test("aggressive cleanup starts at 70 % and empties the caches")
    func aggressive() {
        let memory = FakeMemory()
        let manager = MemoryManager(policy: .init(limitBytes: 1_000_000, aggressive: true)) { memory.sample() }
        let cache = Self.filledCache("c", entries: 50, bytesEach: 100)
        manager.register(cache: cache)
        memory.rss.withLock { $0 = 690_000 }
        #expect(manager.check() == nil)
        memory.rss.withLock { $0 = 700_000 }
        #expect(manager.check() != nil)
        #expect(cache.statistics().entries == 0 && cache.statistics().evictions == 50)
    }

    @Test("cleanup releases pool buffers grown past their preallocated size")
    func pools() {
        let manager = MemoryManager(policy: .init(limitBytes: 1 << 30))
        let pool = BufferPool(name: "p", capacity: 2, bufferBytes: 1_024)
        pool.withBuffer(bytes: 64 * 1_024) { _ in }
        #expect(pool.statistics().idleBytes == 1_024 + 64 * 1_024)
        manager.register(pool: pool)
        let cleanup = manager.cleanUp(reason: "requested")
        #expect(cleanup.poolBytesReleased == 64 * 1_024 && pool.statistics().idleBytes == 1_024)
    }

    @Test("the timer samples the kernel's figures on its own")
    func timer() async throws {
        let manager = MemoryManager(policy: .init(limitBytes: 1 << 40, interval: .milliseconds(20)))
        manager.start()
        var waited = 0
        while manager.report().samples < 3 && waited < 100 { try await Task.sleep(for: .milliseconds(20)); waited += 1 }
        manager.stop()
        #expect(manager.report().samples >= 3)
        #expect((manager.lastSample?.rss ?? 0) > 1_000_000 && (manager.lastSample?.pss ?? 0) > 0)
    }
}

@Suite("Buffer pool")
struct BufferPoolTests {
    @Test("same-shape loans reuse preallocated buffers; a larger shape allocates once, then is reused")
    func reuse() {
        let pool = BufferPool(name: "p", capacity: 2, bufferBytes: 4_096)
        for _ in 0..<100 { pool.withBuffer(bytes: 4_000) { #expect($0.count >= 4_000) } }
        var s = pool.statistics()
        #expect(s.reuses == 100 && s.allocations == 0 && s.idle == 2 && s.inUse == 0)
        for _ in 0..<100 { pool.withBuffer(bytes: 10_000) { #expect($0.count >= 10_000) } }
        s = pool.statistics()
        #expect(s.allocations == 1 && s.reuses == 199 && s.idle == 2)
        // Nested loans beyond the capacity allocate and are not kept.
        pool.withBuffer(bytes: 1) { _ in pool.withBuffer(bytes: 1) { _ in pool.withBuffer(bytes: 1) { _ in } } }
        s = pool.statistics()
        #expect(s.idle == 2 && s.inUse == 0)
    }
}

@Suite("Adaptive cache sizing")
struct AdaptiveCacheSizerTests {
    @Test("the budget moves toward the cache whose lookups hit; decisions and recommendations come from counters")
    func favoursHits() {
        let good = LRUCache<Int, Int>(name: "good", maxEntries: 100, entryOverhead: 0)
        let poor = LRUCache<Int, Int>(name: "poor", maxEntries: 100, entryOverhead: 0)
        let sizer = AdaptiveCacheSizer(members: [.init(cache: good, setting: "GOOD_SIZE"), .init(cache: poor, setting: "POOR_SIZE")],
                                       targetBytes: 1_000_000)
        #expect(good.statistics().capacityBytes == 500_000 && poor.statistics().capacityBytes == 500_000)
        #expect(sizer.adjust().isEmpty)  // no lookups yet: no change
        good.insert(1, forKey: 1, cost: 10)
        for _ in 0..<90 { _ = good.value(forKey: 1) }
        for _ in 0..<10 { _ = good.value(forKey: 2) }
        for i in 0..<200 { _ = poor.value(forKey: i) }
        let decisions = sizer.adjust()
        #expect(decisions.count == 2)
        let g = good.statistics().capacityBytes, p = poor.statistics().capacityBytes
        #expect(g > 800_000 && p < 100_000 && p >= 50_000 && g + p <= 1_000_000)
        #expect(decisions.first { $0.cache == "good" }?.windowHitRate == 0.9)
        let advice = sizer.recommendations()
        #expect(advice[1].contains("lower POOR_SIZE"))
        #expect(advice[0].contains("no change needed"))
        #expect(sizer.history().adjustments == 2)
    }
}

@Suite("Model cache")
struct GenericModelCacheTests {
    final class Model: Sendable { let id: Int; init(_ id: Int) { self.id = id } }

    @Test("loads once, unloads after the TTL on its own timer, reloads; a zero TTL never unloads")
    func ttl() async throws {
        let loads = Mutex(0)
        let cache = ModelCache<Model>(ttl: .milliseconds(100), measure: { _ in (100, 50) }) {
            loads.withLock { $0 += 1; return Model($0) }
        }
        #expect(try cache.model().id == 1 && cache.stats().loaded && cache.stats().bytesMapped == 100)
        cache.startTimer(interval: .milliseconds(20))
        var waited = 0
        while cache.stats().loaded && waited < 100 { try await Task.sleep(for: .milliseconds(20)); waited += 1 }
        #expect(!cache.stats().loaded && cache.stats().unloads == 1 && cache.stats().bytesMapped == 0)
        #expect(try cache.model().id == 2)
        cache.stopTimer()
        let forever = ModelCache<Model>(ttl: .zero) { Model(0) }
        _ = try forever.model()
        #expect(!forever.evictIfIdle(now: .now + .seconds(1_000_000)))
        #expect(forever.evictIfIdle(for: .zero))  // a cleanup may still unload it
    }
}
