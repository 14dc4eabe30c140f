import CodeSageCore
import Dispatch
import Foundation
import IndexStore
import Indexing
import Synchronization

/// Index runs started by index_codebase: each runs on its own thread, one at a time per root
/// (the index lock), while searches keep answering from the published generation.
public final class IndexJobs: Sendable {
    /// A run's state, as index_codebase reports it.
    public struct Job: Sendable, Encodable {
        /// Where a run is: still running, published its generation, or failed.
        public enum State: String, Sendable, Encodable { case running, done, failed }

        public var id: String
        public var root: String
        public var state: State
        public var phase: String
        public var done: Int
        public var total: Int
        public var report: IndexReport?
        public var error: String?
    }

    private struct State {
        var jobs: [String: Job] = [:]
        var waiters: [String: [CheckedContinuation<Job?, Never>]] = [:]
        var counter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Starts a run of `indexer` on a new thread; returns its id at once.
    public func start(_ indexer: Indexer, onFinish: @escaping @Sendable () -> Void) -> String {
        let (id, number) = state.withLock { s -> (String, Int) in
            s.counter += 1
            let id = "index-\(s.counter)"
            s.jobs[id] = Job(id: id, root: indexer.layout.root, state: .running, phase: "starting", done: 0, total: 0)
            return (id, s.counter)
        }
        let thread = Thread { [self] in
            do {
                let report = try indexer.run(progress: { phase, done, total in
                    self.update(id) { $0.phase = phase.rawValue; $0.done = done; $0.total = total }
                })
                finish(id) { $0.state = .done; $0.phase = "published"; $0.report = report }
            } catch {
                finish(id) { $0.state = .failed; $0.error = "\(error)" }
            }
            onFinish()
        }
        thread.name = "codesage-index-\(number)"
        thread.stackSize = 8 << 20
        thread.start()
        return id
    }

    /// The job's current state, or nil for an unknown id.
    public func job(_ id: String) -> Job? { state.withLock { $0.jobs[id] } }

    /// Waits until the job is no longer running.
    public func wait(_ id: String) async -> Job? {
        await withCheckedContinuation { continuation in
            let settled = state.withLock { s -> Job?? in
                guard let current = s.jobs[id], current.state == .running else { return .some(s.jobs[id]) }
                s.waiters[id, default: []].append(continuation)
                return .none
            }
            if case .some(let job) = settled { continuation.resume(returning: job) }
        }
    }

    private func update(_ id: String, _ change: (inout Job) -> Void) {
        state.withLock { s in
            if var job = s.jobs[id] { change(&job); s.jobs[id] = job }
        }
    }

    private func finish(_ id: String, _ change: (inout Job) -> Void) {
        let (finished, pending) = state.withLock { s -> (Job?, [CheckedContinuation<Job?, Never>]) in
            var finished: Job?
            if var job = s.jobs[id] { change(&job); s.jobs[id] = job; finished = job }
            return (finished, s.waiters.removeValue(forKey: id) ?? [])
        }
        for waiter in pending { waiter.resume(returning: finished) }
    }
}
