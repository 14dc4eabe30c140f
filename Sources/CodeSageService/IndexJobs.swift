import CodeSageCore
import Dispatch
import Foundation
import IndexStore
import Indexing

/// Index runs started by index_codebase: each runs on its own thread, one at a time per root
/// (the index lock), while searches keep answering from the published generation.
public final class IndexJobs: @unchecked Sendable {
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

    private let lock = NSLock()
    private var jobs: [String: Job] = [:]
    private var waiters: [String: [CheckedContinuation<Job?, Never>]] = [:]
    private var counter = 0

    public init() {}

    /// Starts a run of `indexer` on a new thread; returns its id at once.
    public func start(_ indexer: Indexer, onFinish: @escaping @Sendable () -> Void) -> String {
        lock.lock()
        counter += 1
        let id = "index-\(counter)"
        jobs[id] = Job(id: id, root: indexer.layout.root, state: .running, phase: "starting", done: 0, total: 0)
        lock.unlock()
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
        thread.name = "codesage-index-\(counter)"
        thread.stackSize = 8 << 20
        thread.start()
        return id
    }

    /// The job's current state, or nil for an unknown id.
    public func job(_ id: String) -> Job? {
        lock.lock()
        defer { lock.unlock() }
        return jobs[id]
    }

    /// Waits until the job is no longer running.
    public func wait(_ id: String) async -> Job? {
        await withCheckedContinuation { continuation in resumeWhenFinished(id, continuation) }
    }

    private func resumeWhenFinished(_ id: String, _ continuation: CheckedContinuation<Job?, Never>) {
        lock.lock()
        guard let current = jobs[id], current.state == .running else {
            let job = jobs[id]
            lock.unlock()
            continuation.resume(returning: job)
            return
        }
        waiters[id, default: []].append(continuation)
        lock.unlock()
    }

    private func update(_ id: String, _ change: (inout Job) -> Void) {
        lock.lock()
        if var job = jobs[id] { change(&job); jobs[id] = job }
        lock.unlock()
    }

    private func finish(_ id: String, _ change: (inout Job) -> Void) {
        lock.lock()
        var finished: Job?
        if var job = jobs[id] { change(&job); jobs[id] = job; finished = job }
        let pending = waiters.removeValue(forKey: id) ?? []
        lock.unlock()
        if let finished { for waiter in pending { waiter.resume(returning: finished) } }
    }
}

