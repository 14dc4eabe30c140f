import ServiceLifecycle

/// The workspace's background work (model idle timer, memory manager, adaptive sizer) as a service of
/// a ServiceGroup: started when the group runs, stopped when it shuts down.
public struct BackgroundWorkService: Service {
    /// The workspace whose background work this runs.
    public let workspace: Workspace

    /// A service over `workspace` (created without background work of its own).
    public init(workspace: Workspace) { self.workspace = workspace }

    /// Starts the work, waits for the group's graceful shutdown (or cancellation), stops it.
    public func run() async throws {
        workspace.startBackgroundWork()
        defer { workspace.stopBackgroundWork() }
        try? await gracefulShutdown()
    }
}
