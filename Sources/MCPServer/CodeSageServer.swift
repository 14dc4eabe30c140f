import CodeSageCore
import Logging
import MCP
import SystemPackage

/// Builds the MCP `Server` of CodeSage from a tool table and runs it on a transport.
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

    /// Makes `server` answer every `initialize`, not only the first. Stateless Streamable HTTP
    /// serves many clients through one `Server`, and each client starts with `initialize`; the
    /// SDK's default handler refuses all but the first ("Server is already initialized").
    /// Versions are negotiated as the SDK does: the client's if supported, else the latest.
    public static func answerEveryInitialize(_ server: Server) async {
        let capabilities = await server.capabilities
        let info = Server.Info(name: name, version: version)
        await server.withMethodHandler(Initialize.self) { parameters in
            let requested = parameters.protocolVersion
            return Initialize.Result(protocolVersion: Version.supported.contains(requested) ? requested : Version.latest,
                                     capabilities: capabilities, serverInfo: info, instructions: nil)
        }
    }

    /// Serves MCP over stdio until the client closes stdin.
    /// - Parameter protocolOutput: the descriptor of the real stdout (see StandardStreams.reserveStdoutForProtocol).
    public static func serveStdio(table: ToolTable, protocolOutput: Int32, logger: Logger) async throws {
        let server = await make(table: table)
        let transport = ScreeningTransport(
            StdioTransport(input: .standardInput, output: FileDescriptor(rawValue: protocolOutput), logger: logger), logger: logger)
        try await server.start(transport: transport)
        await server.waitUntilCompleted()
        await server.stop()
    }
}
