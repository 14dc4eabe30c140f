import CodeSageCore
import CodeSageService
import Foundation
import MCP

/// index_codebase.
public enum IndexTools {
    public static func indexCodebase(_ workspace: Workspace) -> ToolDefinition {
        let jobs = workspace.jobs
        return ToolDefinition(
            name: "index_codebase",
            description: "Index (or update) a repository so it can be searched: discovery honouring .gitignore, chunking by definition, embeddings, FAISS + keyword index. Incremental: unchanged files are skipped. Runs in the background; by default the call returns when the run is done with its report (files, chunks, embedded, reused, skipped, deleted, seconds, index_type, recall_at_10). Sends progress notifications when the request carries a progress token (stdio). With background=true it returns a job_id at once; call again with job_id to see progress. Searches keep answering from the previous index while a run is in progress.",
            inputSchema: Schema.object([
                "path": Schema.root,
                "background": Schema.boolean("Return a job id immediately instead of waiting (default false)."),
                "rebuild": Schema.boolean("Re-read and re-chunk every file (default false)."),
                "job_id": Schema.string("Report on an earlier background run instead of starting one."),
            ]),
            // It writes the index folder; a second run over an unchanged tree changes nothing.
            readOnly: false, destructive: false, idempotent: true
        ) { arguments in
            let args = ToolArguments(arguments, tool: "index_codebase")
            try args.rejectUnknown(allowed: ["path", "background", "rebuild", "job_id"])
            if let id = try args.string("job_id") {
                guard let job = jobs.job(id) else { throw CodeSageError(.invalidArgument, "argument \"job_id\": no job \(id)") }
                return try output(job)
            }
            let root = try args.requiredString("path")
            let background = try args.bool("background") ?? false
            let rebuild = try args.bool("rebuild") ?? false
            let id = try await offPool { try workspace.startIndexRun(root: root, rebuild: rebuild) }
            if background { return try output(jobs.job(id)!) }
            guard let reporter = ToolProgress.reporter else { return try output(await jobs.wait(id)!) }
            // The client asked for progress: report each change of phase or count, then the end.
            var last = ""
            var step = 0.0
            while let job = jobs.job(id), job.state == .running {
                let now = "\(job.phase) \(job.done)/\(job.total)"
                if now != last {
                    step += 1
                    await reporter.report(step, total: nil, message: now)
                    last = now
                }
                // Cancelled (an HTTP client closed its stream): stop reporting; the run itself goes on.
                do { try await Task.sleep(for: .milliseconds(100)) } catch { return try output(jobs.job(id)!) }
            }
            let finished = await jobs.wait(id)!
            await reporter.report(step + 1, total: step + 1, message: finished.state == .done ? "published" : "failed")
            return try output(finished)
        }
    }

    public static func indexStatus(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_index_status",
            description: "How current the index of each root this server serves is (or of `path`): generation and when it was published, files, chunks, semantic_coverage (chunks embedded / chunks: below 1, a semantic miss may be an unembedded file), and the watcher that keeps it current (watching N folders, or scanning and why; pending changes; updates; the last update's time, duration and report).",
            inputSchema: Schema.object([
                "path": Schema.string("A repository root; default every root this server serves."),
            ]),
            readOnly: true, destructive: false, idempotent: true
        ) { arguments in
            let args = ToolArguments(arguments, tool: "get_index_status")
            try args.rejectUnknown(allowed: ["path"])
            let path = try args.string("path")
            return try await offPool { try ToolOutput(workspace.indexStatus(root: path)) }
        }
    }

    static func output(_ job: IndexJobs.Job) throws(CodeSageError) -> ToolOutput {
        if job.state == .failed { throw CodeSageError(.internal, "index run \(job.id) of \(job.root) failed: \(job.error ?? "")") }
        return try ToolOutput(job)
    }
}
