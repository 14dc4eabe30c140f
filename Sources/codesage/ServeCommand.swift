import ArgumentParser
import CodeSageCore
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
            let workspace = Workspace(configuration: configuration) { () throws(CodeSageError) in try IndexSetup.embedder(configuration) }
            let table = CodeToolTable.make(workspace: workspace)
            let endpoint: HTTPEndpoint? = try http.map { (text) throws(CodeSageError) in try HTTPEndpoint.parseTCP(text) }
                ?? unix.map { .unix(path: $0) }
            guard let endpoint else {
                let protocolOutput = try StandardStreams.reserveStdoutForProtocol()
                try await CodeSageServer.serveStdio(table: table, protocolOutput: protocolOutput, logger: CLI.logger)
                return
            }
            let server = try await HTTPServer.start(table: table, endpoint: endpoint, socketMode: configuration.socketMode,
                                                    maxBodyBytes: Int(configuration.maxRequestBytes), authToken: configuration.authToken,
                                                    metricsText: { ServerTools.prometheus(workspace) }, logger: CLI.logger)
            try await server.waitUntilClosed()
        }
    }
}
