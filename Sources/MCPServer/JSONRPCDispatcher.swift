import CodeSageCore
import Foundation
import MCP

/// The one request path of MCP over HTTP: a stateless JSON-RPC 2.0 dispatcher over the SDK's own
/// message types. One decode of the body (the envelope decodes the parameters of the method it names),
/// one call into the tool table, one encode of the answer; the client's id is echoed exactly as it came
/// (any JSON-RPC id: string or number). It speaks MCP 2026-07-28 (no handshake: the version and the
/// client's capabilities arrive in each request's `_meta`, `server/discover`, header checks, `ttlMs` and
/// `cacheScope` on lists) and the revisions clients in the field send (2025-11-25, 2025-06-18, 2025-03-26,
/// 2024-11-05, which begin with `initialize`), chosen per request.
///
/// The SDK's `Server` still serves stdio, where its session model fits.
public struct JSONRPCDispatcher: Sendable {
    /// The tools.
    public let table: ToolTable

    /// A dispatcher over `table`.
    public init(table: ToolTable) { self.table = table }

    /// What one HTTP request gets back.
    public enum Reply: Sendable {
        /// A JSON body with this HTTP status.
        case json(status: Int, body: Data)
        /// 202 Accepted, no body (notifications and client responses).
        case accepted
    }

    /// Sends one progress notification (an SSE event) while a call runs; nil when the client cannot take them.
    public typealias ProgressSink = @Sendable (_ notification: Data) async -> Void

    /// Answers one POST body. `headers` are the request's, lower-cased names. With a `progress` sink,
    /// a tools/call that carries a progress token reports through it.
    public func handle(body: Data, headers: [String: String], progress: ProgressSink? = nil) async -> Reply {
        let message: Incoming
        do {
            message = try JSONDecoder().decode(Incoming.self, from: body)
        } catch let error as DecodingError {
            if case .typeMismatch = error, body.first(where: { !Self.whitespace.contains($0) }) == UInt8(ascii: "[") {
                return Self.error(nil, .invalidRequest, "Invalid Request: batches are not part of MCP (removed in 2025-06-18); send one message per request", status: 400)
            }
            if case .dataCorrupted = error, (try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])) == nil {
                return Self.error(nil, .parseError, "Parse error: the body is not valid JSON", status: 400)
            }
            return Self.error(nil, .invalidRequest, "Invalid Request: \(Self.describe(error))", status: 400)
        } catch {
            return Self.error(nil, .parseError, "Parse error: \(error)", status: 400)
        }
        guard message.jsonrpc == "2.0" else {
            return Self.error(message.id, .invalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\"", status: 400)
        }
        guard let method = message.method else {
            // A response or an error from the client (to nothing we asked): nothing to answer.
            return message.hasID && (message.hasResult || message.hasError) ? .accepted
                : Self.error(message.id, .invalidRequest, "Invalid Request: no \"method\"", status: 400)
        }
        // The revision and its header rules first: they hold for notifications too.
        let version: ProtocolRevision
        switch ProtocolRevision.of(message, headers: headers) {
        case .success(let revision): version = revision
        case .failure(let refusal):
            let id = message.id.flatMap { $0.isNull ? nil : $0 }
            return Self.error(id, refusal.code, refusal.message, data: refusal.data, status: 400)
        }
        guard message.hasID else { return .accepted }  // a notification: nothing to answer, and 202 says so
        guard let id = message.id, !id.isNull else {
            return Self.error(nil, .invalidRequest, "Invalid Request: \"id\" must be a string or a number", status: 400)
        }
        if let problem = message.paramsProblem {
            return Self.error(id, .invalidParams, "Invalid params for \(method): \(problem)", status: version.isStateless ? 400 : 200)
        }
        switch (method, message.params) {
        case ("initialize", .initialize(let parameters)):
            return Self.result(id, Initialize.Result(
                protocolVersion: ProtocolRevision.negotiate(parameters.protocolVersion), capabilities: Self.capabilities,
                serverInfo: Self.serverInfo, instructions: nil), revision: version)
        case ("ping", _):
            return Self.result(id, Empty(), revision: version)
        case ("server/discover", _):
            return Self.result(id, Discovery(), revision: version, extra: Self.listCaching)
        case ("tools/list", _):
            return Self.result(id, table.listResult, revision: version, extra: version.isStateless ? Self.listCaching : [:])
        case ("tools/call", .call(let parameters)):
            let result: CallTool.Result
            if let token = parameters._meta?.progressToken, let progress {
                let reporter = ProgressReporter { done, total, text in
                    let note = Outgoing(method: ProgressNotification.name, params: ProgressNotification.Parameters(
                        progressToken: token, progress: done, total: total, message: text))
                    await progress(Self.encode(note))
                }
                result = await ToolProgress.$reporter.withValue(reporter) { await table.call(parameters) }
            } else {
                result = await table.call(parameters)
            }
            return Self.result(id, result, revision: version)
        default:
            return Self.error(id, .methodNotFound, "Method not found: \(method) (this server answers initialize, ping, server/discover, tools/list and tools/call)",
                              status: version.isStateless ? 404 : 200)
        }
    }

    // MARK: answers

    /// What this server announces.
    static let serverInfo = Server.Info(name: CodeSageServer.name, version: CodeSageServer.version)
    static let capabilities = Server.Capabilities(tools: .init(listChanged: false))
    /// tools/list and server/discover may be cached for an hour, for every user of the server (they never
    /// change while it runs).
    static let listCaching: [String: Value] = ["ttlMs": .int(3_600_000), "cacheScope": .string("public")]
    private static let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]

    /// The server/discover result: the versions and capabilities of the server (its identity goes in `_meta`).
    struct Discovery: Encodable {
        var supportedVersions = ProtocolRevision.supported
        var capabilities = JSONRPCDispatcher.capabilities
    }

    private static func result(_ id: Value, _ result: some Encodable, revision: ProtocolRevision, extra: [String: Value] = [:]) -> Reply {
        var fields = extra
        if revision.isStateless {
            fields["resultType"] = .string("complete")
            fields["_meta"] = .object(["io.modelcontextprotocol/serverInfo": .object([
                "name": .string(serverInfo.name), "version": .string(serverInfo.version)])])
        }
        return .json(status: 200, body: encode(Outgoing(id: id, result: Extended(base: result, fields: fields))))
    }

    static func error(_ id: Value?, _ code: ErrorCode, _ message: String, data: Value? = nil, status: Int) -> Reply {
        .json(status: status, body: encode(Outgoing<Empty>(id: id ?? .null, error: .init(code: code.rawValue, message: message, data: data))))
    }

    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Every value here encodes (no non-finite numbers: the tool table's results are built from finite figures).
        return (try? encoder.encode(value)) ?? Data(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"Internal error: the answer could not be encoded"}}"#.utf8)
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "\"\(path)\": ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    /// JSON-RPC error codes this dispatcher sends.
    enum ErrorCode: Int {
        case parseError = -32700, invalidRequest = -32600, methodNotFound = -32601, invalidParams = -32602
        case headerMismatch = -32020, unsupportedProtocolVersion = -32022
    }
}

// MARK: - messages

/// One incoming JSON-RPC message; the parameters are decoded as the type its method takes.
package struct Incoming: Decodable {
    enum Parameters { case none, initialize(Initialize.Parameters), call(CallTool.Parameters), other(Value) }

    package var jsonrpc: String?
    package var id: Value?
    package var hasID: Bool
    var hasResult: Bool
    var hasError: Bool
    package var method: String?
    var params: Parameters = .none
    /// Why the parameters could not be decoded as the method's type.
    var paramsProblem: String?

    enum Keys: String, CodingKey { case jsonrpc, id, method, params, result, error }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        jsonrpc = try? c.decode(String.self, forKey: .jsonrpc)
        hasID = c.contains(.id)
        hasResult = c.contains(.result)
        hasError = c.contains(.error)
        if hasID {
            let raw = try c.decode(Value.self, forKey: .id)
            switch raw {
            case .string, .int, .double, .null: id = raw
            default: throw DecodingError.dataCorruptedError(forKey: .id, in: c, debugDescription: "\"id\" must be a string or a number")
            }
        }
        method = try c.decodeIfPresent(String.self, forKey: .method)
        guard c.contains(.params) else {
            if method == "tools/call" || method == "initialize" { paramsProblem = "\"params\" is missing" }
            return
        }
        do {
            switch method {
            case "tools/call": params = .call(try c.decode(CallTool.Parameters.self, forKey: .params))
            case "initialize": params = .initialize(try c.decode(Initialize.Parameters.self, forKey: .params))
            default: params = .other(try c.decode(Value.self, forKey: .params))
            }
        } catch let error as DecodingError {
            guard case .object? = try? c.decode(Value.self, forKey: .params) else {
                paramsProblem = "\"params\" must be an object"
                return
            }
            switch error {
            case .keyNotFound(let key, _): paramsProblem = "\"\(key.stringValue)\" is missing"
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                paramsProblem = "\"\(context.codingPath.dropFirst().map(\.stringValue).joined(separator: "."))\" has the wrong type"
            @unknown default: paramsProblem = "\(error)"
            }
        }
    }

    /// `params._meta`, whatever the method.
    var meta: [String: Value]? {
        switch params {
        case .call(let p): return p._meta?.fields
        case .other(let value): return value.objectValue?["_meta"]?.objectValue
        case .initialize, .none: return nil
        }
    }
}

/// An outgoing JSON-RPC response or notification.
struct Outgoing<R: Encodable>: Encodable {
    struct Failure: Encodable { var code: Int; var message: String; var data: Value? }
    var jsonrpc = "2.0"
    var id: Value?
    var method: String?
    var params: R?
    var result: R?
    var error: Failure?

    init(id: Value, result: R) { self.id = id; self.result = result }
    init(id: Value, error: Failure) { self.id = id; self.error = error }
    init(method: String, params: R) { self.method = method; self.params = params }

    enum Keys: String, CodingKey { case jsonrpc, id, method, params, result, error }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(jsonrpc, forKey: .jsonrpc)
        if let method {
            try c.encode(method, forKey: .method)
            try c.encodeIfPresent(params, forKey: .params)
            return
        }
        try c.encode(id ?? .null, forKey: .id)
        if let error { try c.encode(error, forKey: .error) } else { try c.encodeIfPresent(result, forKey: .result) }
    }
}

/// A result with fields added beside its own (resultType, ttlMs, cacheScope, _meta).
struct Extended<Base: Encodable>: Encodable {
    var base: Base
    var fields: [String: Value]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        guard !fields.isEmpty else { return }
        var c = encoder.container(keyedBy: Key.self)
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { try c.encode(value, forKey: Key(stringValue: name)) }
    }
}

extension Value {
    var isNull: Bool { if case .null = self { return true } else { return false } }
}
