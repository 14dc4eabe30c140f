import CodeSageCore
import Logging
import MCP
import SystemPackage

/// Builds the MCP `Server` of CodeSage from a tool table and runs it on stdio (HTTP goes through `JSONRPCDispatcher`).
public enum CodeSageServer {
    /// Name and version announced in `initialize`.
    public static let name = "codesage"
    public static let version = "0.1.0"

    /// A server whose tools/list and tools/call come from `table`.
    public static func make(table: ToolTable) async -> Server {
        let server = Server(name: name, version: version,
                            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in table.listResult }
        await server.withMethodHandler(CallTool.self) { [weak server] parameters in
            guard let token = parameters._meta?.progressToken, Server.currentHandlerContext?.httpContext == nil, let server else {
                return await table.call(parameters)
            }
            let reporter = ProgressReporter { progress, total, message in
                try? await server.notify(ProgressNotification.message(
                    .init(progressToken: token, progress: progress, total: total, message: message)))
            }
            return await ToolProgress.$reporter.withValue(reporter) { await table.call(parameters) }
        }
        return server
    }

    /// Serves MCP over stdio until the client closes stdin, or until `shutdown` returns true (a graceful
    /// shutdown): then new tool calls are refused, and the server stops once every request it received has
    /// its answer written, or after `drainDeadline`.
    /// - Parameter protocolOutput: the descriptor of the real stdout (see StandardStreams.reserveStdoutForProtocol).
    public static func serveStdio(table: ToolTable, protocolOutput: Int32, logger: Logger, drainDeadline: Duration = .seconds(10),
                                  until shutdown: (@Sendable () async -> Bool)? = nil) async throws {
        let server = await make(table: table)
        let transport = ScreeningTransport(
            StdioTransport(input: .standardInput, output: FileDescriptor(rawValue: protocolOutput), logger: logger), logger: logger)
        try await server.start(transport: transport)
        // A task of its own (it inherits the caller's task-locals, the graceful-shutdown handler among them).
        let stopper = shutdown.map { shutdown in
            Task {
                guard await shutdown(), !Task.isCancelled else { return }
                table.gate.close()
                let left = await transport.waitForAnswers(deadline: drainDeadline)
                if left > 0 { logger.warning("stopping with \(left) request(s) unanswered after \(drainDeadline)") }
                await server.stop()
            }
        }
        await server.waitUntilCompleted()
        stopper?.cancel()
        await server.stop()
    }
}
