import MCP

/// Sends `notifications/progress` for the tool call in flight, when its client asked for them.
public struct ProgressReporter: Sendable {
    let send: @Sendable (_ progress: Double, _ total: Double?, _ message: String?) async -> Void

    /// Reports `progress` of `total` (when known) with a short message.
    public func report(_ progress: Double, total: Double?, message: String?) async {
        await send(progress, total, message)
    }
}

/// The progress reporter of the current tool call (a task-local set by the server around each call):
/// present when the request carried `_meta.progressToken` and the transport can deliver
/// notifications while the call runs (stdio; the stateless HTTP transport answers with one JSON body).
public enum ToolProgress {
    @TaskLocal public static var reporter: ProgressReporter?
}
