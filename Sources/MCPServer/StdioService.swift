import Logging
import ServiceLifecycle

/// MCP over stdio as a service of a ServiceGroup. It ends when the client closes stdin; on the group's
/// graceful shutdown (SIGTERM or SIGINT) new tool calls are refused, the calls in flight answer (up to
/// `drainDeadline`), then the server stops.
public struct StdioService: Service {
    public let table: ToolTable
    /// The descriptor of the real stdout (StandardStreams.reserveStdoutForProtocol).
    public let protocolOutput: Int32
    public let logger: Logger
    public let drainDeadline: Duration

    public init(table: ToolTable, protocolOutput: Int32, logger: Logger, drainDeadline: Duration = .seconds(10)) {
        self.table = table
        self.protocolOutput = protocolOutput
        self.logger = logger
        self.drainDeadline = drainDeadline
    }

    public func run() async throws {
        let drainDeadline = self.drainDeadline
        try await CodeSageServer.serveStdio(table: table, protocolOutput: protocolOutput, logger: logger,
                                            drainDeadline: drainDeadline) {
            // Returns on the group's graceful shutdown (or throws when stdin closed first and this is cancelled).
            (try? await gracefulShutdown()) != nil
        }
    }
}
