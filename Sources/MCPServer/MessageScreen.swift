import Foundation
import Logging
import MCP

/// Refuses the JSON-RPC messages the MCP SDK would mishandle, with the answer JSON-RPC 2.0 prescribes:
/// text that is not JSON gets -32700 with `"id": null` (the SDK's stdio path answered with a random id),
/// and a request whose id is an object or an array gets -32600 with `"id": null` (the SDK answered it over
/// HTTP and never over stdio, leaving the client waiting).
enum MessageScreen {
    /// What to do with one incoming message.
    enum Verdict: Equatable {
        /// Send this error response instead of passing the message on.
        case reject(Data)
        /// Pass it on; `request` is the id of a request (which owes an answer), nil for anything else.
        case pass(request: String?)
    }

    /// Whether `message` may go on to the SDK, and the request id it carries.
    static func verdict(_ message: Data) -> Verdict {
        guard let object = try? JSONSerialization.jsonObject(with: message, options: [.fragmentsAllowed]) else {
            return .reject(response(code: -32700, message: "Parse error: the message is not valid JSON"))
        }
        guard let envelope = object as? [String: Any] else { return .pass(request: nil) }
        if let id = envelope["id"], id is [String: Any] || id is [Any] {
            return .reject(response(code: -32600, message: "Invalid Request: \"id\" must be a string, a number or null"))
        }
        return .pass(request: envelope["method"] is String ? idKey(envelope["id"]) : nil)
    }

    /// The id `message` answers when it is a response (it has an id and no method), else nil.
    static func answeredRequest(_ message: Data) -> String? {
        guard let envelope = (try? JSONSerialization.jsonObject(with: message)) as? [String: Any],
              envelope["method"] == nil else { return nil }
        return idKey(envelope["id"])
    }

    /// One spelling for an id whether it was read from a request or written in a response: a string and a
    /// number with the same digits stay apart. nil for a missing or null id (a notification).
    private static func idKey(_ id: Any?) -> String? {
        switch id {
        case let text as String: "s:" + text
        case let number as NSNumber: "n:" + number.stringValue
        default: nil
        }
    }

    private static func response(code: Int, message: String) -> Data {
        let body: [String: Any] = ["jsonrpc": "2.0", "id": NSNull(), "error": ["code": code, "message": message]]
        return (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
    }
}

/// A transport that passes what `MessageScreen` accepts on to the server and answers the rest itself. It
/// also keeps the requests it passed on that have no answer written yet: what a graceful shutdown waits
/// for (a handler that has returned has not answered until its response is written).
actor ScreeningTransport: Transport {
    nonisolated let logger: Logger
    private let inner: any Transport
    private var incoming: AsyncThrowingStream<Data, Swift.Error>?
    private var unanswered: Set<String> = []

    init(_ inner: any Transport, logger: Logger) {
        self.inner = inner
        self.logger = logger
    }

    func connect() async throws {
        try await inner.connect()
        incoming = await inner.receive()
    }

    func disconnect() async { await inner.disconnect() }

    func send(_ data: Data) async throws {
        try await inner.send(data)
        if !unanswered.isEmpty, let id = MessageScreen.answeredRequest(data) { unanswered.remove(id) }
    }

    private func received(request id: String) { unanswered.insert(id) }

    /// Requests passed on whose answers have not been written yet.
    var unansweredCount: Int { unanswered.count }

    /// Waits until every request passed on has its answer written, or `deadline` has passed; returns how
    /// many were still unanswered.
    @discardableResult
    func waitForAnswers(deadline: Duration) async -> Int {
        let end = ContinuousClock.now + deadline
        while !unanswered.isEmpty, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
        return unanswered.count
    }

    func receive() -> AsyncThrowingStream<Data, Swift.Error> {
        let source = incoming
        let inner = self.inner
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    if let source {
                        for try await message in source {
                            switch MessageScreen.verdict(message) {
                            case .reject(let rejection):
                                try? await inner.send(rejection)
                            case .pass(let request):
                                // Counted before the server can see it, so its answer is always awaited.
                                if let request { self.received(request: request) }
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
