import Platform
import Synchronization

/// Keeps one model per process: loaded on first use, unloaded after `ttl` without use, reloaded
/// on demand. Thread-safe: concurrent first callers wait for one load (a lock of its own), while the
/// state's mutex is only ever held for a few assignments, so `stats()` and `loadedModel` answer at
/// once even during a load.
public final class ModelCache<Model: Sendable>: Sendable {
    /// Counters and memory figures.
    public struct Stats: Sendable, Equatable, Encodable {
        /// Whether the model is loaded now.
        public var loaded = false
        /// Times the model was loaded.
        public var loads = 0
        /// Times it was unloaded (idle eviction, a memory cleanup or `unload()`).
        public var unloads = 0
        /// Requests served by an already loaded model.
        public var hits = 0
        /// Bytes of weight files mapped now (0 when unloaded).
        public var bytesMapped = 0
        /// Bytes of those mappings resident in memory now (`mincore`).
        public var bytesResident = 0
        /// Seconds the model may stay idle (0: never unloaded for idleness).
        public var ttlSeconds = 0.0
        /// Seconds since the model was last used (nil when unloaded).
        public var idleSeconds: Double?
    }

    /// Mapped and resident bytes of a loaded model.
    public typealias Measure = @Sendable (Model) -> (mapped: Int, resident: Int)

    private struct State {
        var model: Model?
        var lastUse: ContinuousClock.Instant = .now
        var stats = Stats()
    }

    /// Idle time after which the model is unloaded; `.zero` keeps it loaded.
    public let ttl: Duration
    private let loader: @Sendable () throws -> Model
    private let measure: Measure
    private let state = Mutex(State())
    /// Held for a whole load, so concurrent first callers wait for one load; never taken by readers.
    private let loading = Mutex(())
    private let timer = TimerSlot()

    /// A cache whose model comes from `loader`; `measure` reports its mapped and resident bytes.
    public init(ttl: Duration, measure: @escaping Measure = { _ in (0, 0) }, loader: @escaping @Sendable () throws -> Model) {
        self.ttl = ttl
        self.loader = loader
        self.measure = measure
    }


    /// The model, loading it if needed; marks the cache as used at `now`.
    public func model(now: ContinuousClock.Instant = .now) throws -> Model {
        if let m = loadedMarkingUse(now) { return m }
        return try loading.withLock { _ throws -> Model in
            if let m = loadedMarkingUse(now) { return m }  // another caller loaded it meanwhile
            let m = try loader()
            state.withLock { s in
                s.model = m
                s.stats.loads += 1
                s.lastUse = max(s.lastUse, now)
            }
            return m
        }
    }

    /// The loaded model, counted as a hit and marked used at `now`; nil when unloaded.
    private func loadedMarkingUse(_ now: ContinuousClock.Instant) -> Model? {
        state.withLock { s in
            guard let m = s.model else { return nil }
            s.stats.hits += 1
            s.lastUse = max(s.lastUse, now)
            return m
        }
    }

    /// The model if loaded (nil otherwise); never loads it and does not count as a use.
    public var loadedModel: Model? { state.withLock { $0.model } }

    /// Unloads the model if it has not been used for `idle` (default: the TTL; never when the TTL is
    /// zero) at `now`; returns whether it did. Callers still holding the model keep it alive until they drop it.
    @discardableResult
    public func evictIfIdle(for idle: Duration? = nil, now: ContinuousClock.Instant = .now) -> Bool {
        let limit = idle ?? ttl
        if idle == nil && ttl == .zero { return false }
        let evicted: Model? = state.withLock { s in
            guard s.model != nil, now - s.lastUse >= limit else { return nil }
            s.stats.unloads += 1
            defer { s.model = nil }
            return s.model
        }
        return evicted != nil  // released here, outside the lock
    }

    /// Unloads the model now, if loaded; returns whether it was.
    @discardableResult
    public func unload() -> Bool {
        let old: Model? = state.withLock { s in
            guard let m = s.model else { return nil }
            s.stats.unloads += 1
            s.model = nil
            return m
        }
        return old != nil
    }

    /// Starts a background timer that calls `evictIfIdle()` every `interval` (default ttl / 4, at
    /// most one minute); replaces a running one. Does nothing when the TTL is zero.
    public func startTimer(interval: Duration? = nil) {
        guard ttl > .zero else { return }
        timer.start(interval: interval ?? min(ttl / 4, .seconds(60))) { [weak self] in self?.evictIfIdle() }
    }

    /// Stops the background timer.
    public func stopTimer() {
        timer.stop()
    }

    /// Current counters, with the mapped and resident bytes of the loaded model.
    public func stats(now: ContinuousClock.Instant = .now) -> Stats {
        let (counters, model, lastUse) = state.withLock { s in (s.stats, s.model, s.lastUse) }
        var st = counters
        st.ttlSeconds = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        if let model {  // measured outside the lock (mincore over the mapping)
            st.loaded = true
            (st.bytesMapped, st.bytesResident) = measure(model)
            let idle = now - lastUse
            st.idleSeconds = Double(idle.components.seconds) + Double(idle.components.attoseconds) / 1e18
        }
        return st
    }
}
