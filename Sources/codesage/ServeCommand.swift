import ArgumentParser
import CodeSageCore
import CodeSageService
import MCPServer
import Platform

/// `codesage serve`: MCP over stdio (default), or Streamable HTTP on TCP or a Unix socket.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve MCP: stdio by default, --http HOST:PORT or --unix PATH for Streamable HTTP.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: ArgumentHelp("Serve Streamable HTTP on TCP.", valueName: "host:port")) var http: String?
    @Option(name: .long, help: ArgumentHelp("Serve Streamable HTTP on a Unix socket.", valueName: "path")) var unix: String?

    func validate() throws {
        if http != nil && unix != nil { throw ValidationError("choose one of --http and --unix") }
    }

    func run() async throws {
        try await CLI.run {
            let configuration = try global.loadConfiguration()
            let endpoint: HTTPEndpoint? = try http.map { (text) throws(CodeSageError) in try HTTPEndpoint.parseTCP(text) }
                ?? unix.map { .unix(path: $0) }
            guard let endpoint else {
                // stdio: the session ends with the client's stdin; SIGTERM or SIGINT refuse new calls and let
                // those in flight answer first.
                let workspace = Workspace(configuration: configuration, startBackgroundWork: false)
                if configuration.watchEnabled { workspace.enableWatching(logger: CLI.logger) }
                let protocolOutput = try StandardStreams.reserveStdoutForProtocol()
                let stdio = StdioService(table: CodeToolTable.make(workspace: workspace), protocolOutput: protocolOutput,
                                         logger: CLI.logger, drainDeadline: Self.drainDeadline)
                do {
                    try await ServerLifecycle.run(stdio, workspace: workspace, logger: CLI.logger)
                } catch {
                    throw CodeSageError(.internal, "the stdio server stopped", cause: error)
                }
                return
            }
            let workspace = Workspace(configuration: configuration, startBackgroundWork: false)
            if configuration.watchEnabled { workspace.enableWatching(logger: CLI.logger) }
            let table = CodeToolTable.make(workspace: workspace)
            let server = try await HTTPServer.start(table: table, endpoint: endpoint,
                                                    socketMode: configuration.socketMode, maxBodyBytes: Int(configuration.maxRequestBytes),
                                                    authToken: configuration.authToken,
                                                    metricsText: { ServerTools.prometheus(workspace, metrics: table.metrics) }, logger: CLI.logger)
            // SIGTERM or SIGINT: stop accepting, answer what is in flight (up to the deadline), then exit.
            do {
                try await ServerLifecycle.run(HTTPServerService(server: server, drainDeadline: Self.drainDeadline),
                                              workspace: workspace, logger: CLI.logger)
            } catch {
                throw CodeSageError(.internal, "the HTTP server stopped", cause: error)
            }
            CLI.logger.info("served \(server.activity.requests) requests; stopped")
        }
    }

    /// How long requests in flight get to finish after SIGTERM or SIGINT.
    static let drainDeadline: Duration = .seconds(10)
}
