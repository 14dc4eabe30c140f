import Dispatch
import Foundation

/// A Dispatch timer that calls a handler every `interval` until cancelled or released.
///
/// Dispatch rather than a Swift `Task`: it fires on its own thread even while synchronous work
/// (embedding, FAISS, SQLite) occupies every thread of Swift's cooperative pool.
public final class RepeatingTimer: @unchecked Sendable {
    private let source: DispatchSourceTimer

    /// Starts calling `handler` every `interval` (at least 10 ms), the first time after one interval.
    public init(interval: Duration, _ handler: @escaping @Sendable () -> Void) {
        let (seconds, attoseconds) = interval.components
        let nanos = max(10_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
        source = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        source.schedule(deadline: .now() + .nanoseconds(nanos), repeating: .nanoseconds(nanos), leeway: .milliseconds(10))
        source.setEventHandler(handler: handler)
        source.resume()
    }

    /// Stops the timer; a handler already running finishes.
    public func cancel() { source.cancel() }

    deinit { source.cancel() }
}

/// At most one running `RepeatingTimer`, replaceable and stoppable from any thread.
public final class TimerSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var timer: RepeatingTimer?

    public init() {}

    /// Starts calling `handler` every `interval`, replacing (and cancelling) a running timer.
    public func start(interval: Duration, _ handler: @escaping @Sendable () -> Void) {
        let new = RepeatingTimer(interval: interval, handler)
        lock.lock()
        let old = timer
        timer = new
        lock.unlock()
        old?.cancel()
    }

    /// Stops the running timer, if any.
    public func stop() {
        lock.lock()
        let old = timer
        timer = nil
        lock.unlock()
        old?.cancel()
    }

    /// Whether a timer is running.
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return timer != nil
    }

    deinit { timer?.cancel() }
}
