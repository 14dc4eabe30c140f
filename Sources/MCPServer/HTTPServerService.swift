import ServiceLifecycle

/// An HTTP server as a service of a ServiceGroup. On the group's graceful shutdown (SIGTERM or SIGINT
/// when the group listens for them) it stops accepting connections, answers the requests in flight,
/// and stops; requests still running after `drainDeadline` are cut off with the server.
public struct HTTPServerService: Service {
    /// The running server.
    public let server: HTTPServer
    /// Longest time in-flight requests get to finish once shutdown begins.
    public let drainDeadline: Duration

    /// A service over a started `server`.
    public init(server: HTTPServer, drainDeadline: Duration = .seconds(10)) {
        self.server = server
        self.drainDeadline = drainDeadline
    }

    /// Serves until the listening socket closes (shutdown, cancellation or failure), then drains and stops.
    public func run() async throws {
        let server = self.server
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await server.waitUntilClosed()
            } onGracefulShutdown: {
                server.beginDrain()
            }
        } onCancel: {
            server.beginDrain()
        }
        await server.shutDown(deadline: Task.isCancelled ? .zero : drainDeadline)
    }
}
