import Dispatch

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
