import Foundation
import Logging
import MCP

/// Refuses the JSON-RPC messages the MCP SDK would mishandle, with the answer JSON-RPC 2.0 prescribes:
/// text that is not JSON gets -32700 with `"id": null` (the SDK's stdio path answered with a random id),
/// and a request whose id is an object or an array gets -32600 with `"id": null` (the SDK answered it over
/// HTTP and never over stdio, leaving the client waiting).
enum MessageScreen {
    /// nil when `message` may go on to the SDK; otherwise the error response to send instead.
    static func rejection(_ message: Data) -> Data? {
        guard let object = try? JSONSerialization.jsonObject(with: message, options: [.fragmentsAllowed]) else {
            return response(code: -32700, message: "Parse error: the message is not valid JSON")
        }
        if let request = object as? [String: Any], let id = request["id"], id is [String: Any] || id is [Any] {
            return response(code: -32600, message: "Invalid Request: \"id\" must be a string, a number or null")
        }
        return nil
    }

    private static func response(code: Int, message: String) -> Data {
        let body: [String: Any] = ["jsonrpc": "2.0", "id": NSNull(), "error": ["code": code, "message": message]]
        return (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
    }
}

/// A transport that passes what `MessageScreen` accepts on to the server and answers the rest itself.
actor ScreeningTransport: Transport {
    nonisolated let logger: Logger
    private let inner: any Transport
    private var incoming: AsyncThrowingStream<Data, Swift.Error>?

    init(_ inner: any Transport, logger: Logger) {
        self.inner = inner
        self.logger = logger
    }

    func connect() async throws {
        try await inner.connect()
        incoming = await inner.receive()
    }

    func disconnect() async { await inner.disconnect() }

    func send(_ data: Data) async throws { try await inner.send(data) }

    func receive() -> AsyncThrowingStream<Data, Swift.Error> {
        let source = incoming
        let inner = self.inner
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    if let source {
                        for try await message in source {
                            if let rejection = MessageScreen.rejection(message) {
                                try? await inner.send(rejection)
                            } else {
                                continuation.yield(message)
                            }
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
