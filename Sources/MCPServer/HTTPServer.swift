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
    /// Requests in flight and served, and whether the server is draining.
    public let activity: HTTPActivity

    private init(group: MultiThreadedEventLoopGroup, channel: Channel, server: Server, endpoint: HTTPEndpoint, activity: HTTPActivity) {
        self.group = group
        self.channel = channel
        self.server = server
        self.endpoint = endpoint
        self.activity = activity
    }

    /// Starts serving `table` at `endpoint`. A Unix socket is bound at a temporary path, given file mode
    /// `socketMode`, and renamed over `path`: a restarted server replaces its predecessor's socket with no
    /// moment where the path is missing (clients of the old one keep their connections). With an
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

        let activity = HTTPActivity()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPRequestHandler(transport: transport, activity: activity, maxBodyBytes: maxBodyBytes, authToken: authToken,
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
                let temporary = "\(path).tmp.\(getpid())"
                channel = try await bootstrap.bind(unixDomainSocketPath: temporary, cleanupExistingSocketFile: true).get()
                guard chmod(temporary, mode_t(socketMode)) == 0, rename(temporary, path) == 0 else {
                    let code = errno
                    try? await channel.close()
                    unlink(temporary)
                    throw CodeSageError(.io, "cannot place the socket at \(path): \(String(cString: strerror(code)))")
                }
                bound = endpoint
            }
        } catch {
            try? await group.shutdownGracefully()
            throw CodeSageError(.io, "cannot listen on \(endpoint)", cause: error)
        }
        logger.info("serving MCP at \(bound)/mcp")
        return HTTPServer(group: group, channel: channel, server: server, endpoint: bound, activity: activity)
    }

    /// Stops accepting connections and answers every further request with `Connection: close`, so a
    /// load balancer moves to another server; requests in flight finish. `activity.inflight` tells when
    /// they have. The socket file stays (a successor renames its own over it).
    public func beginDrain() {
        activity.startDraining()
        channel.close(promise: nil)
    }

    /// Drains (`beginDrain`), waits until the requests in flight have been answered or `deadline` has
    /// passed, then stops; returns how many requests were still in flight when it stopped.
    @discardableResult
    public func shutDown(deadline: Duration) async -> Int {
        beginDrain()
        let end = ContinuousClock.now + deadline
        while activity.inflight > 0, ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let left = activity.inflight
        await stop()
        return left
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
package final class HTTPRequestHandler: ChannelInboundHandler, @unchecked Sendable {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias OutboundOut = HTTPServerResponsePart

    private let transport: StatelessHTTPServerTransport
    private let activity: HTTPActivity
    private let maxBodyBytes: Int
    private let authToken: String?
    private let metricsText: @Sendable () -> String
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false

    package init(transport: StatelessHTTPServerTransport, activity: HTTPActivity, maxBodyBytes: Int, authToken: String?,
         metricsText: @escaping @Sendable () -> String) {
        self.transport = transport
        self.activity = activity
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

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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
            activity.requestStarted()
            respond(to: requestHead, context: context)
        }
    }

    /// A request NIO's decoder could not parse: HTTPServerProtocolErrorHandler has answered 400 with
    /// `Connection: close`; close the connection as promised (it used to stay open).
    package func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
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
            // Rendered on a Dispatch thread: it reads /proc/self/smaps and the caches' counters, and the
            // event loop serves every other client (/healthz included) meanwhile.
            let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
            let handlerBox = NIOLoopBound(self, eventLoop: context.eventLoop)
            let loop = context.eventLoop
            let render = metricsText
            DispatchQueue.global().async {
                let text = render()
                loop.execute {
                    handlerBox.value.write(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Data(text.utf8),
                                           head: requestHead, context: contextBox.value)
                }
            }
        case (_, "/mcp"):
            var headers: [String: String] = [:]
            for (name, value) in requestHead.headers {
                headers[name] = headers[name].map { "\($0), \(value)" } ?? value
            }
            var payload = Data(body.readableBytesView)
            if requestHead.method == .POST, let rejection = MessageScreen.rejection(payload) {
                write(status: 400, headers: ["Content-Type": "application/json"], body: rejection, head: requestHead, context: context)
                return
            }
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
        let keepAlive = requestHead.isKeepAlive && !activity.isDraining
        if !keepAlive { responseHeaders.replaceOrAdd(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: requestHead.version, status: HTTPResponseStatus(statusCode: status), headers: responseHeaders)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
        // In flight until the response is written: a draining server stops only after its answers left.
        done.whenComplete { [activity] _ in
            activity.requestFinished(status: status)
            if !keepAlive { contextBox.value.close(promise: nil) }
        }
    }
}

/// Carries a JSON value (from JSONSerialization) across the event loop hop; it is never mutated.
struct UncheckedBox: @unchecked Sendable {
    let value: Any
    init(_ value: Any) { self.value = value }
}

/// What an HTTP server is doing: requests in flight, served and failed (5xx), and whether it drains.
public final class HTTPActivity: @unchecked Sendable {
    private let lock = NSLock()
    private var inflightCount = 0
    private var served = 0
    private var failed = 0
    private var draining = false

    package init() {}

    func requestStarted() {
        lock.lock()
        inflightCount += 1
        lock.unlock()
    }

    func requestFinished(status: Int) {
        lock.lock()
        inflightCount -= 1
        served += 1
        if status >= 500 { failed += 1 }
        lock.unlock()
    }

    func startDraining() {
        lock.lock()
        draining = true
        lock.unlock()
    }

    private func read<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// Requests received and not yet answered.
    public var inflight: Int { read { inflightCount } }
    /// Requests answered.
    public var requests: Int { read { served } }
    /// Requests answered with a 5xx status.
    public var serverErrors: Int { read { failed } }
    /// Whether the server has stopped accepting connections.
    public var isDraining: Bool { read { draining } }
}
