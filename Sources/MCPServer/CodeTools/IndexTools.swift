import CodeSageCore
import Dispatch
import Foundation
import Indexing
import MCP

/// Index runs started by index_codebase: each runs on its own thread, one at a time per root
/// (the index lock), while searches keep answering from the published generation.
public final class IndexJobs: @unchecked Sendable {
    /// A run's state, as index_codebase reports it.
    public struct Job: Sendable, Encodable {
        public var id: String
        public var root: String
        public var state: String  // running, done, failed
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
        jobs[id] = Job(id: id, root: indexer.layout.root, state: "running", phase: "starting", done: 0, total: 0)
        lock.unlock()
        let thread = Thread { [self] in
            do {
                let report = try indexer.run(progress: { phase, done, total in
                    self.update(id) { $0.phase = phase.rawValue; $0.done = done; $0.total = total }
                })
                finish(id) { $0.state = "done"; $0.phase = "published"; $0.report = report }
            } catch {
                finish(id) { $0.state = "failed"; $0.error = "\(error)" }
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
        guard let current = jobs[id], current.state == "running" else {
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

/// index_codebase.
public enum IndexTools {
    public static func indexCodebase(_ workspace: Workspace, jobs: IndexJobs) -> ToolDefinition {
        ToolDefinition(
            name: "index_codebase",
            description: "Index (or update) a repository so it can be searched: discovery honouring .gitignore, chunking by definition, embeddings, FAISS + keyword index. Incremental: unchanged files are skipped. Runs in the background; by default the call returns when the run is done with its report (files, chunks, embedded, reused, skipped, deleted, seconds, index_type, recall_at_10). Sends progress notifications when the request carries a progress token (stdio). With background=true it returns a job_id at once; call again with job_id to see progress. Searches keep answering from the previous index while a run is in progress.",
            inputSchema: Schema.object([
                "path": Schema.root,
                "background": Schema.boolean("Return a job id immediately instead of waiting (default false)."),
                "rebuild": Schema.boolean("Re-read and re-chunk every file (default false)."),
                "job_id": Schema.string("Report on an earlier background run instead of starting one."),
            ])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "index_codebase")
            try args.rejectUnknown(allowed: ["path", "background", "rebuild", "job_id"])
            if let id = try args.string("job_id") {
                guard let job = jobs.job(id) else { throw CodeSageError(.invalidArgument, "argument \"job_id\": no job \(id)") }
                return try output(job)
            }
            let root = try args.requiredString("path")
            let background = try args.bool("background") ?? false
            var settings = IndexOptions(configuration: workspace.configuration)
            settings.rebuild = try args.bool("rebuild") ?? false
            settings.waitForLock = true
            let options = settings
            let indexer = try await offPool {
                Indexer(layout: try workspace.layout(root: root), embedder: try workspace.model(), options: options)
            }
            let id = jobs.start(indexer) { workspace.indexPublished(indexer.layout) }
            if background { return try output(jobs.job(id)!) }
            guard let reporter = ToolProgress.reporter else { return try output(await jobs.wait(id)!) }
            // The client asked for progress: report each change of phase or count, then the end.
            var last = ""
            var step = 0.0
            while let job = jobs.job(id), job.state == "running" {
                let now = "\(job.phase) \(job.done)/\(job.total)"
                if now != last {
                    step += 1
                    await reporter.report(step, total: nil, message: now)
                    last = now
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            let finished = await jobs.wait(id)!
            await reporter.report(step + 1, total: step + 1, message: finished.state == "done" ? "published" : "failed")
            return try output(finished)
        }
    }

    static func output(_ job: IndexJobs.Job) throws(CodeSageError) -> ToolOutput {
        if job.state == "failed" { throw CodeSageError(.internal, "index run \(job.id) of \(job.root) failed: \(job.error ?? "")") }
        var text = "\(job.id) \(job.state): \(job.root)"
        if let r = job.report {
            text += "\n\(r.files) files, \(r.chunks) chunks (\(r.added) new, \(r.changed) changed, \(r.deleted) deleted, \(r.skipped) unchanged); "
                + "\(r.embedded) embedded, \(r.reused) reused; \(r.indexType.isEmpty ? "no vectors" : r.indexType); generation \(r.generation) in "
                + String(format: "%.2f s", r.seconds)
        } else if job.state == "running" {
            text += " (\(job.phase) \(job.done)/\(job.total))"
        }
        return ToolOutput(text: text, structured: try structured(job))
    }
}
