import Caching
import Foundation
import Synchronization
import Testing

@Suite("Model cache while loading")
struct ModelCacheTests {
    /// A loader that blocks until released: the state a TTL reload is in while it reads 90 MB of weights.
    final class Gate: Sendable {
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let loads = Atomic<Int>(0)
        func load() -> String {
            loads.add(1, ordering: .relaxed)
            entered.signal()
            release.wait()
            return "model"
        }
    }

    @Test("stats and loadedModel answer while a load is in progress; concurrent first callers share one load")
    func readersDuringLoad() async throws {
        let gate = Gate()
        let cache = ModelCache<String>(ttl: .seconds(60)) { gate.load() }
        let first = Thread { _ = try? cache.model() }
        let second = Thread { _ = try? cache.model() }
        first.start()
        gate.entered.wait()  // the first caller is inside the loader now
        second.start()
        // The readers run on their own thread: if they waited for the load, the test records it and
        // releases the loader instead of hanging.
        let answered = DispatchSemaphore(value: 0)
        let seen = Mutex<(ModelCache<String>.Stats, Bool)?>(nil)
        Thread {
            let stats = cache.stats()
            let loaded = cache.loadedModel != nil
            seen.withLock { $0 = (stats, loaded) }
            answered.signal()
        }.start()
        let inTime = answered.wait(timeout: .now() + 2) == .success
        #expect(inTime, "stats() and loadedModel waited for the load")
        gate.release.signal()
        if !inTime { answered.wait() }
        let (stats, loaded) = try #require(seen.withLock { $0 })
        #expect(!loaded && !stats.loaded && stats.loads == 0)
        var waited = 0
        while cache.stats().hits < 1 && waited < 500 { try await Task.sleep(for: .milliseconds(10)); waited += 1 }
        let after = cache.stats()
        #expect(after.loads == 1 && after.hits == 1 && gate.loads.load(ordering: .relaxed) == 1,
                "one load served both callers: \(after)")
    }
}
