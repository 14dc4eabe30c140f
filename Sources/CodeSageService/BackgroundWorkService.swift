import Logging
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

/// How a server process runs: one ServiceGroup of the workspace's background work and the process's main
/// service (an HTTP server, a worker), shut down gracefully on SIGTERM or SIGINT, last service first (the
/// main service drains, then the background work stops), and when the main service ends on its own.
public enum ServerLifecycle {
    /// Runs `main` beside `workspace`'s background work until shutdown.
    public static func run(_ main: some Service, workspace: Workspace, logger: Logger) async throws {
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: BackgroundWorkService(workspace: workspace), successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore),
                .init(service: main, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// A `RootWatcher` as a service: started when the group runs, stopped on its graceful shutdown (an update
/// in progress gets `RootWatcher.stop`'s deadline to finish; it is crash-safe past it).
public struct RootWatchService: Service {
    public let watcher: RootWatcher

    public init(watcher: RootWatcher) { self.watcher = watcher }

    public func run() async throws {
        watcher.start()
        defer { watcher.stop() }
        try? await gracefulShutdown()
    }
}
