import CodeSageCore
import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// MCP Streamable HTTP (stateless; JSON responses, or an SSE stream for a call that reports progress) at
/// POST /mcp over SwiftNIO, on TCP or a Unix socket, plus GET /healthz and GET /metrics.
public final class HTTPServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: Channel
    /// The address actually bound (with the real port when 0 was asked for).
    public let endpoint: HTTPEndpoint
    /// Requests in flight and served, and whether the server is draining.
    public let activity: HTTPActivity

    private init(group: MultiThreadedEventLoopGroup, channel: Channel, endpoint: HTTPEndpoint, activity: HTTPActivity) {
        self.group = group
        self.channel = channel
        self.endpoint = endpoint
        self.activity = activity
    }

    /// Starts serving `table` at `endpoint`. A Unix socket is bound at a temporary path, given file mode
    /// `socketMode`, and renamed over `path`: a restarted server replaces its predecessor's socket with no
    /// moment where the path is missing (clients of the old one keep their connections). With an
    /// `authToken`, /mcp and /metrics require `Authorization: Bearer <token>` (401 otherwise);
    /// /healthz stays open. `metricsText` renders GET /metrics (Prometheus text; by default the tool table's
    /// registry), on the blocking pool.
    public static func start(table: ToolTable, endpoint: HTTPEndpoint, socketMode: UInt32,
                             maxBodyBytes: Int, authToken: String? = nil,
                             metricsText: (@Sendable () -> String)? = nil, logger: Logger) async throws -> HTTPServer {
        let metricsText = metricsText ?? { table.metrics.prometheus() }
        let dispatcher = JSONRPCDispatcher(table: table)
        let activity = HTTPActivity()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPRequestHandler(dispatcher: dispatcher, activity: activity, maxBodyBytes: maxBodyBytes, authToken: authToken,
                                           metricsText: metricsText))
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
        return HTTPServer(group: group, channel: channel, endpoint: bound, activity: activity)
    }

    /// Stops accepting connections and answers every further request with `Connection: close`, so a
    /// load balancer moves to another server; requests in flight finish. `activity.inflight` tells when
    /// they have. The socket file stays (a successor renames its own over it).
    public func beginDrain() {
        activity.startDraining()
        channel.close(promise: nil)
    }

    /// Drains (`beginDrain`) and waits until the requests in flight have been answered or `deadline` has
    /// passed; returns how many were still in flight then.
    @discardableResult
    public func drain(deadline: Duration) async -> Int {
        beginDrain()
        let end = ContinuousClock.now + deadline
        while activity.inflight > 0, ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return activity.inflight
    }

    /// Drains (`drain(deadline:)`), then stops; returns how many requests were still in flight.
    @discardableResult
    public func shutDown(deadline: Duration) async -> Int {
        let left = await drain(deadline: deadline)
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
        try? await group.shutdownGracefully()
    }
}

/// Collects one HTTP request, routes it, and writes the response.
package final class HTTPRequestHandler: ChannelInboundHandler, @unchecked Sendable {
    package typealias InboundIn = HTTPServerRequestPart
    package typealias OutboundOut = HTTPServerResponsePart

    private let dispatcher: JSONRPCDispatcher
    private let activity: HTTPActivity
    private let maxBodyBytes: Int
    private let authToken: String?
    private let metricsText: @Sendable () -> String
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    /// The call being answered on this connection (cancelled when the client goes away).
    private var call: Task<Void, Never>?
    /// Whether the answer in progress is an SSE stream whose head has been written.
    private var streaming = false

    package init(dispatcher: JSONRPCDispatcher, activity: HTTPActivity, maxBodyBytes: Int, authToken: String?,
         metricsText: @escaping @Sendable () -> String) {
        self.dispatcher = dispatcher
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

    /// The client closed the connection: on HTTP that cancels the call it was waiting for.
    package func channelInactive(context: ChannelHandlerContext) {
        call?.cancel()
        call = nil
        context.fireChannelInactive()
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
            // Rendered on the blocking pool: it reads /proc/self/smaps and the caches' counters, and the
            // event loop serves every other client (/healthz included) meanwhile.
            let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
            let handlerBox = NIOLoopBound(self, eventLoop: context.eventLoop)
            let loop = context.eventLoop
            let render = metricsText
            Task {
                let text = (try? await offPool(render)) ?? ""
                loop.execute {
                    handlerBox.value.write(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Data(text.utf8),
                                           head: requestHead, context: contextBox.value)
                }
            }
        case (.POST, "/mcp"):
            let contentType = requestHead.headers.first(name: "Content-Type")?.lowercased() ?? ""
            let accept = requestHead.headers[canonicalForm: "Accept"].map { $0.lowercased() }
            guard contentType.hasPrefix("application/json") else {
                writeRPCError(status: 415, "Unsupported Media Type: POST /mcp takes Content-Type application/json", head: requestHead, context: context)
                return
            }
            guard accept.contains(where: { $0.hasPrefix("application/json") || $0.hasPrefix("*/*") || $0.hasPrefix("application/*") }) else {
                writeRPCError(status: 406, "Not Acceptable: the Accept header must include application/json (and text/event-stream for progress)",
                              head: requestHead, context: context)
                return
            }
            let acceptsStream = accept.contains { $0.hasPrefix("text/event-stream") }
            var headers: [String: String] = [:]
            for (name, value) in requestHead.headers { headers[name.lowercased()] = headers[name.lowercased()].map { "\($0), \(value)" } ?? value }
            let payload = Data(body.readableBytesView)
            let loop = context.eventLoop
            let contextBox = NIOLoopBound(context, eventLoop: loop)
            let handlerBox = NIOLoopBound(self, eventLoop: loop)
            let progress: JSONRPCDispatcher.ProgressSink? = acceptsStream ? { @Sendable event in
                _ = try? await loop.submit { handlerBox.value.sendEvent(event, head: requestHead, context: contextBox.value) }.get()
            } : nil
            let dispatcher = self.dispatcher
            streaming = false
            call = Task {
                let reply = await dispatcher.handle(body: payload, headers: headers, progress: progress)
                loop.execute { handlerBox.value.finish(reply, head: requestHead, context: contextBox.value) }
            }
        case (_, "/mcp"):
            // Stateless MCP: no GET stream, no session to DELETE.
            write(status: 405, headers: ["Content-Type": "text/plain", "Allow": "POST"],
                  body: Data("method not allowed: /mcp takes POST\n".utf8), head: requestHead, context: context)
        default:
            write(status: 404, headers: ["Content-Type": "text/plain"], body: Data("not found: \(path)\n".utf8), head: requestHead, context: context)
        }
    }

    /// A JSON-RPC error without an id, answered with HTTP `status`.
    private func writeRPCError(status: Int, _ message: String, head requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .json(_, let body) = JSONRPCDispatcher.error(nil, .invalidRequest, message, status: status) else { return }
        write(status: status, headers: ["Content-Type": "application/json"], body: body, head: requestHead, context: context)
    }

    /// One SSE event of the answer in progress; the first one writes the stream's head.
    private func sendEvent(_ event: Data, head requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if !streaming {
            streaming = true
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            headers.add(name: "Cache-Control", value: "no-cache")
            headers.add(name: "X-Accel-Buffering", value: "no")  // nginx passes each event on at once
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: requestHead.version, status: .ok, headers: headers))), promise: nil)
        }
        var buffer = context.channel.allocator.buffer(capacity: event.count + 8)
        buffer.writeString("data: ")
        buffer.writeBytes(event)
        buffer.writeString("\n\n")
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    /// Writes the dispatcher's reply: the last event of a stream, a JSON body, or 202.
    private func finish(_ reply: JSONRPCDispatcher.Reply, head requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        call = nil
        switch reply {
        case .accepted:
            write(status: 202, headers: [:], body: Data(), head: requestHead, context: context)
        case .json(let status, let body):
            guard streaming else {
                write(status: status, headers: ["Content-Type": "application/json"], body: body, head: requestHead, context: context)
                return
            }
            sendEvent(body, head: requestHead, context: context)
            streaming = false
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            let keepAlive = requestHead.isKeepAlive && !activity.isDraining
            let contextBox = NIOLoopBound(context, eventLoop: context.eventLoop)
            done.whenComplete { [activity] _ in
                activity.requestFinished(status: status)
                if !keepAlive { contextBox.value.close(promise: nil) }
            }
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

/// What an HTTP server is doing: requests in flight, served and failed (5xx), and whether it drains.
public final class HTTPActivity: Sendable {
    private struct Counts {
        var inflight = 0
        var served = 0
        var failed = 0
        var draining = false
    }

    private let counts = Mutex(Counts())

    package init() {}

    func requestStarted() { counts.withLock { $0.inflight += 1 } }

    func requestFinished(status: Int) {
        counts.withLock {
            $0.inflight -= 1
            $0.served += 1
            if status >= 500 { $0.failed += 1 }
        }
    }

    func startDraining() { counts.withLock { $0.draining = true } }

    private func read<T: Sendable>(_ body: (Counts) -> T) -> T { counts.withLock { body($0) } }

    public var inflight: Int { read { $0.inflight } }
    /// Requests answered.
    public var requests: Int { read { $0.served } }
    /// Requests answered with a 5xx status.
    public var serverErrors: Int { read { $0.failed } }
    /// Whether the server has stopped accepting connections.
    public var isDraining: Bool { read { $0.draining } }
}
