import CodeSageCore
import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1
import NIOPosix

/// MCP Streamable HTTP (stateless, JSON responses) at POST /mcp over SwiftNIO, on TCP or a Unix socket,
/// plus GET /healthz.
public final class HTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    private let server: Server
    /// The address actually bound (with the real port when 0 was asked for).
    public let endpoint: HTTPEndpoint

    private init(group: MultiThreadedEventLoopGroup, channel: Channel, server: Server, endpoint: HTTPEndpoint) {
        self.group = group
        self.channel = channel
        self.server = server
        self.endpoint = endpoint
    }

    /// Starts serving `table` at `endpoint`. Unix sockets get file mode `socketMode`. With an
    /// `authToken`, /mcp and /metrics require `Authorization: Bearer <token>` (401 otherwise);
    /// /healthz stays open. `metricsText` renders GET /metrics (Prometheus text).
    public static func start(table: ToolTable, endpoint: HTTPEndpoint, socketMode: UInt32,
                             maxBodyBytes: Int, authToken: String? = nil,
                             metricsText: @escaping @Sendable () -> String = { "" }, logger: Logger) async throws -> HTTPServer {
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                // The socket's file mode and the loopback bind are the access control; Host is not checked.
                OriginValidator.disabled,
                AcceptHeaderValidator(mode: .jsonOnly),
                ContentTypeValidator(),
                ProtocolVersionValidator(),
            ]),
            logger: logger)
        let server = await CodeSageServer.make(table: table)
        try await server.start(transport: transport)
        await CodeSageServer.answerEveryInitialize(server)  // after start, which registers the default handler

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPRequestHandler(transport: transport, maxBodyBytes: maxBodyBytes, authToken: authToken,
                                           metricsText: { table.metrics.prometheus() + metricsText() }))
                }
            }
        let channel: Channel
        let bound: HTTPEndpoint
        do {
            switch endpoint {
            case .tcp(let host, let port):
                channel = try await bootstrap.bind(host: host, port: port).get()
                bound = .tcp(host: host, port: channel.localAddress?.port ?? port)
            case .unix(let path):
                // Create the socket file private from the start (umask is process-wide; 077 only narrows
                // what else is created meanwhile), then set the configured mode.
                let previousMask = umask(0o077)
                defer { umask(previousMask) }
                channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
                guard chmod(path, mode_t(socketMode)) == 0 else {
                    throw CodeSageError(.io, "chmod \(path): \(String(cString: strerror(errno)))")
                }
                bound = endpoint
            }
        } catch {
            try? await group.shutdownGracefully()
            throw CodeSageError(.io, "cannot listen on \(endpoint)", cause: error)
        }
        logger.info("serving MCP at \(bound)/mcp")
        return HTTPServer(group: group, channel: channel, server: server, endpoint: bound)
    }

    /// Waits until the listening channel closes.
    public func waitUntilClosed() async throws {
        try await channel.closeFuture.get()
    }

    /// Stops listening and releases the event loop.
    public func stop() async {
        try? await channel.close()
        await server.stop()
        try? await group.shutdownGracefully()
    }
}

/// Collects one HTTP request, routes it, and writes the response.
final class HTTPRequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let transport: StatelessHTTPServerTransport
    private let maxBodyBytes: Int
    private let authToken: String?
    private let metricsText: @Sendable () -> String
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    init(transport: StatelessHTTPServerTransport, maxBodyBytes: Int, authToken: String?, metricsText: @escaping @Sendable () -> String) {
        self.transport = transport
        self.maxBodyBytes = maxBodyBytes
        self.authToken = authToken
        self.metricsText = metricsText
    }

    /// Whether the request carries the configured bearer token (always true without one).
    /// The comparison takes the same time wherever the first difference is.
    private func authorized(_ requestHead: HTTPRequestHead) -> Bool {
        guard let authToken else { return true }
        let expected = Array("Bearer \(authToken)".utf8)
        let given = Array((requestHead.headers.first(name: "Authorization") ?? "").utf8)
        guard given.count == expected.count else { return false }
        return zip(given, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body.clear()
            tooLarge = false
        case .body(var chunk):
            if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                tooLarge = true
            } else if !tooLarge {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            respond(to: requestHead, context: context)
        }
    }

    private func respond(to requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = requestHead.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? requestHead.uri
        if tooLarge {
            write(status: 413, headers: ["Content-Type": "application/json"],
                  body: Data(#"{"error":"request body over \#(maxBodyBytes) bytes"}"#.utf8), head: requestHead, context: context)
            return
        }
        if path != "/healthz" && !authorized(requestHead) {
            write(status: 401, headers: ["Content-Type": "application/json", "WWW-Authenticate": "Bearer"],
                  body: Data(#"{"error":"missing or wrong bearer token"}"#.utf8), head: requestHead, context: context)
            return
        }
        switch (requestHead.method, path) {
        case (.GET, "/healthz"):
            write(status: 200, headers: ["Content-Type": "text/plain"], body: Data("ok\n".utf8), head: requestHead, context: context)
        case (.GET, "/metrics"):
            write(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Data(metricsText().utf8), head: requestHead, context: context)
        case (_, "/mcp"):
            var headers: [String: String] = [:]
            for (name, value) in requestHead.headers {
                headers[name] = headers[name].map { "\($0), \(value)" } ?? value
            }
            var payload = Data(body.readableBytesView)
            let rewritten = requestHead.method == .POST ? RequestIDs.rewrite(payload) : nil
            if let rewritten { payload = rewritten.body }
            let originalID = rewritten.map { UncheckedBox($0.original) }
            let request = HTTPRequest(method: requestHead.method.rawValue, headers: headers, body: payload, path: path)
            let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
            let handlerBox = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.makeFutureWithTask { [transport] in
                await transport.handleRequest(request)
            }.whenSuccess { response in
                var data = response.bodyData ?? Data()
                if let originalID { data = RequestIDs.restore(data, original: originalID.value) }
                handlerBox.value.write(status: response.statusCode, headers: response.headers,
                                       body: data, head: requestHead, context: contextBox.value)
            }
        default:
            write(status: 404, headers: ["Content-Type": "text/plain"], body: Data("not found: \(path)\n".utf8), head: requestHead, context: context)
        }
    }

    private func write(status: Int, headers: [String: String], body: Data, head requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        var responseHeaders = HTTPHeaders()
        for (name, value) in headers where name.lowercased() != "content-length" {
            responseHeaders.add(name: name, value: value)
        }
        responseHeaders.replaceOrAdd(name: "Content-Length", value: String(body.count))
        let keepAlive = requestHead.isKeepAlive
        if !keepAlive { responseHeaders.replaceOrAdd(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: requestHead.version, status: HTTPResponseStatus(statusCode: status), headers: responseHeaders)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { _ in contextBox.value.close(promise: nil) }
        }
    }
}

/// Carries a JSON value (from JSONSerialization) across the event loop hop; it is never mutated.
struct UncheckedBox: @unchecked Sendable {
    let value: Any
    init(_ value: Any) { self.value = value }
}
