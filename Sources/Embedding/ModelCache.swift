import Foundation
import Synchronization

/// A Dispatch timer, shareable across threads (Dispatch sources are thread-safe).
private final class TimerBox: @unchecked Sendable {
    let source: DispatchSourceTimer
    init(_ source: DispatchSourceTimer) { self.source = source }
    func cancel() { source.cancel() }
}

/// Keeps one `Encoder` per process: loaded on first use, unloaded after `ttl` without use,
/// reloaded on demand. Thread-safe (a mutex guards the state; loading happens under it, so
/// concurrent first callers wait for one load).
public final class ModelCache: Sendable {
    /// Counters and memory figures.
    public struct Stats: Sendable, Equatable {
        /// Times the encoder was loaded.
        public var loads = 0
        /// Times it was unloaded (idle eviction or `unload()`).
        public var unloads = 0
        /// Requests served by an already loaded encoder.
        public var hits = 0
        /// Bytes of weight files mapped now (0 when unloaded).
        public var bytesMapped = 0
        /// Bytes of those mappings resident in memory now (`mincore`).
        public var bytesResident = 0
    }

    private struct State {
        var encoder: Encoder?
        var lastUse: ContinuousClock.Instant = .now
        var stats = Stats()
        var timer: TimerBox?
    }

    /// Idle time after which the encoder is unloaded.
    public let ttl: Duration
    private let loader: @Sendable () throws -> Encoder
    private let state = Mutex(State())

    /// A cache whose encoder comes from `loader`.
    public init(ttl: Duration, loader: @escaping @Sendable () throws -> Encoder) {
        self.ttl = ttl
        self.loader = loader
    }

    /// A cache of the model in `modelDirectory` (int8 when `quantized`).
    public convenience init(modelDirectory: URL, quantized: Bool = false,
                            ttl: Duration = .seconds(600), options: EncoderOptions = EncoderOptions()) {
        self.init(ttl: ttl) {
            quantized ? try Encoder(quantizedModelDirectory: modelDirectory, options: options)
                      : try Encoder(modelDirectory: modelDirectory, options: options)
        }
    }

    deinit { state.withLock { $0.timer?.cancel() } }

    /// The encoder, loading it if needed; marks the cache as used at `now`.
    public func encoder(now: ContinuousClock.Instant = .now) throws -> Encoder {
        try state.withLock { s in
            s.lastUse = now
            if let e = s.encoder { s.stats.hits += 1; return e }
            let e = try loader()
            s.encoder = e
            s.stats.loads += 1
            return e
        }
    }

    /// Embeds `texts` with the cached encoder.
    public func embed(_ texts: [String]) throws -> [EmbeddingResult] {
        try encoder().embed(texts)
    }

    /// Unloads the encoder if it has not been used for `ttl` at `now`; returns whether it did.
    /// (Callers still holding the encoder keep it alive until they drop it.)
    @discardableResult
    public func evictIfIdle(now: ContinuousClock.Instant = .now) -> Bool {
        let evicted: Encoder? = state.withLock { s in
            guard s.encoder != nil, now - s.lastUse >= ttl else { return nil }
            s.stats.unloads += 1
            defer { s.encoder = nil }
            return s.encoder
        }
        return evicted != nil  // released here, outside the lock
    }

    /// Unloads the encoder now, if loaded.
    public func unload() {
        let old: Encoder? = state.withLock { s in
            guard let e = s.encoder else { return nil }
            s.stats.unloads += 1
            s.encoder = nil
            return e
        }
        _ = old
    }

    /// Starts a background timer that calls `evictIfIdle()` every `interval` (default ttl / 4);
    /// replaces a running one. Stopped by `stopTimer()` or when the cache is released.
    /// (A Dispatch timer rather than a Swift `Task`, so that it fires even while synchronous
    /// embedding work occupies every thread of the cooperative pool.)
    public func startTimer(interval: Duration? = nil) {
        let period = interval ?? ttl / 4
        let (seconds, attoseconds) = period.components
        let nanos = max(1_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        timer.schedule(deadline: .now() + .nanoseconds(nanos), repeating: .nanoseconds(nanos))
        timer.setEventHandler { [weak self] in self?.evictIfIdle() }
        let box = TimerBox(timer)
        state.withLock { s in
            s.timer?.cancel()
            s.timer = box
        }
        timer.resume()
    }

    /// Stops the background timer.
    public func stopTimer() {
        state.withLock { s in
            s.timer?.cancel()
            s.timer = nil
        }
    }

    /// Current counters, with the mapped and resident bytes of the loaded encoder.
    public func stats() -> Stats {
        state.withLock { s in
            var st = s.stats
            if let e = s.encoder {
                st.bytesMapped = e.bytesMapped
                st.bytesResident = e.bytesResident()
            }
            return st
        }
    }
}
