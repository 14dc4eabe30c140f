import Foundation
import Logging
import MCP
import Testing
@testable import CodeSageCore
@testable import CodeSageService
@testable import MCPServer

func testTable() throws -> ToolTable {
    let configuration = try Configuration(environment: ["CODESAGE_MEMORY_LIMIT": "768MB"], home: "/h", onlineCPUs: 2)
    return ToolTable([ConfigurationTools.getConfiguration(configuration)])
}

@Suite("MCP tools over the swift-sdk")
struct MCPServerTests {
    @Test("initialize, tools/list and tools/call through the SDK's client")
    func inMemory() async throws {
        let server = await CodeSageServer.make(table: try testTable())
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverTransport)
        let client = Client(name: "test", version: "1")
        let initialized = try await client.connect(transport: clientTransport)
        #expect(initialized.serverInfo.name == "codesage")

        let tools = try await client.listTools().tools
        let tool = try #require(tools.first { $0.name == "get_configuration" })
        #expect(tool.inputSchema.objectValue?["type"] == "object")

        let one = try await client.callTool(name: "get_configuration", arguments: ["name": "CODESAGE_MEMORY_LIMIT"])
        #expect(one.isError == false)
        guard case .text(let text, _, _)? = one.content.first else { Issue.record("no text content"); return }
        #expect(text == "CODESAGE_MEMORY_LIMIT=768MB (environment)")

        let unknownTool = try await client.callTool(name: "no_such_tool")
        #expect(unknownTool.isError == true)
        let badType = try await client.callTool(name: "get_configuration", arguments: ["name": 5])
        #expect(badType.isError == true)
        guard case .text(let message, _, _)? = badType.content.first else { Issue.record("no error text"); return }
        #expect(message.contains("argument \"name\" must be a string"))
        let unknownArgument = try await client.callTool(name: "get_configuration", arguments: ["nmae": "x"])
        #expect(unknownArgument.isError == true)

        await client.disconnect()
        await server.stop()
    }

    @Test("HTTP endpoints parse")
    func endpoints() throws {
        #expect(try HTTPEndpoint.parseTCP("127.0.0.1:8080") == .tcp(host: "127.0.0.1", port: 8080))
        #expect(try HTTPEndpoint.parseTCP("[::1]:0") == .tcp(host: "::1", port: 0))
        for bad in ["8080", "host:", ":80", "h:70000", "h:x"] {
            #expect(throws: CodeSageError.self) { try HTTPEndpoint.parseTCP(bad) }
        }
    }
}

/// A minimal blocking HTTP/1.1 client over a Unix or TCP socket (tests only): one request, Connection: close.
enum RawHTTP {
    /// Sends on a Dispatch thread: a blocking read on the Swift concurrency pool (2 threads here) would starve the server.
    static func send(_ request: String, unixPath: String? = nil, port: Int? = nil) async throws -> (status: Int, body: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try blockingSend(request, unixPath: unixPath, port: port) })
            }
        }
    }

    static func blockingSend(_ request: String, unixPath: String? = nil, port: Int? = nil) throws -> (status: Int, body: String) {
        let fd: Int32
        if let unixPath {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (offset, byte) in unixPath.utf8.enumerated() { raw[offset] = byte }
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard result == 0 else { throw CodeSageError(.io, "connect \(unixPath): errno \(errno)") }
        } else {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port!).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else { throw CodeSageError(.io, "connect port \(port!): errno \(errno)") }
        }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            sent += count
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            response.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: response, as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? -1
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    static func post(_ json: String, path: String = "/mcp", extraHeaders: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            + "Connection: close\r\n\(extraHeaders)Content-Length: \(json.utf8.count)\r\n\r\n\(json)"
    }
}

@Suite("MCP Streamable HTTP over SwiftNIO")
struct HTTPServerTests {
    static let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#
    static let call = #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_configuration","arguments":{"name":"CODESAGE_SOCKET_MODE"}}}"#

    @Test("a Unix socket: created 0600, MCP answers, health, 404, 413 and parse errors")
    func unixSocket() async throws {
        let folder = NSTemporaryDirectory() + "codesage-http-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/mcp.sock"
        let server = try await HTTPServer.start(table: try testTable(), endpoint: .unix(path: path), socketMode: 0o600,
                                                maxBodyBytes: 4096, logger: Logger(label: "test"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let initialized = try await RawHTTP.send(RawHTTP.post(Self.initialize), unixPath: path)
        #expect(initialized.status == 200)
        #expect(initialized.body.contains(#""serverInfo""#))
        let called = try await RawHTTP.send(RawHTTP.post(Self.call), unixPath: path)
        #expect(called.status == 200)
        #expect(called.body.contains("CODESAGE_SOCKET_MODE=0600 (default)"))

        let health = try await RawHTTP.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", unixPath: path)
        #expect(health.status == 200 && health.body == "ok\n")
        let missing = try await RawHTTP.send("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", unixPath: path)
        #expect(missing.status == 404)
        let huge = try await RawHTTP.send(RawHTTP.post(String(repeating: " ", count: 5000) + Self.initialize), unixPath: path)
        #expect(huge.status == 413)
        let malformed = try await RawHTTP.send(RawHTTP.post("{not json"), unixPath: path)
        #expect(malformed.body.contains("-32700"), "a JSON-RPC parse error, got \(malformed.status) \(malformed.body)")
        // The server keeps serving after bad input.
        #expect(try await RawHTTP.send(RawHTTP.post(Self.call), unixPath: path).status == 200)
        await server.stop()
    }

    @Test("TCP on an ephemeral loopback port")
    func tcp() async throws {
        let server = try await HTTPServer.start(table: try testTable(), endpoint: .tcp(host: "127.0.0.1", port: 0), socketMode: 0o600,
                                                maxBodyBytes: 1 << 20, logger: Logger(label: "test"))
        guard case .tcp(_, let port) = server.endpoint else { Issue.record("not TCP"); return }
        #expect(port > 0)
        let called = try await RawHTTP.send(RawHTTP.post(Self.call), port: port)
        #expect(called.status == 200)
        #expect(called.body.contains("\"isError\":false"))
        await server.stop()
    }
}

@Suite("The screening transport")
struct ScreeningTransportTests {
    @Test("a request stays unanswered until a response with its id is written; notifications and other ids do not count")
    func answersAreCounted() async throws {
        let (client, server) = await InMemoryTransport.createConnectedPair()
        let screening = ScreeningTransport(server, logger: Logger(label: "test"))
        try await client.connect()
        try await screening.connect()
        var incoming = await screening.receive().makeAsyncIterator()
        for message in [#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{}}"#,
                        #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                        #"{"jsonrpc":"2.0","id":"7","method":"ping"}"#] {
            try await client.send(Data(message.utf8))
            _ = try await incoming.next()
        }
        #expect(await screening.unansweredCount == 2)
        // The string id "7" is not the number 7, and a notification answers nothing.
        try await screening.send(Data(#"{"jsonrpc":"2.0","id":"7","result":{}}"#.utf8))
        try await screening.send(Data(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"id":7}}"#.utf8))
        #expect(await screening.unansweredCount == 1)
        #expect(await screening.waitForAnswers(deadline: .milliseconds(30)) == 1)
        try await screening.send(Data(#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#.utf8))
        #expect(await screening.waitForAnswers(deadline: .seconds(5)) == 0)
    }

    @Test("text that is not JSON and object ids are answered by the screen itself and owe nothing")
    func rejections() {
        guard case .reject = MessageScreen.verdict(Data("not json".utf8)) else { Issue.record("not rejected"); return }
        guard case .reject = MessageScreen.verdict(Data(#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#.utf8)) else {
            Issue.record("object id not rejected"); return
        }
        #expect(MessageScreen.verdict(Data(#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#.utf8)) == .pass(request: nil))
        #expect(MessageScreen.verdict(Data("[1,2]".utf8)) == .pass(request: nil))
    }
}
