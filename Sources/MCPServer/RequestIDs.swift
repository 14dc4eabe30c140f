import Foundation
import Synchronization

/// Gives every JSON-RPC request that reaches the shared stateless transport an id of its own.
///
/// The SDK's `StatelessHTTPServerTransport` matches a response to its waiting HTTP request by the
/// JSON-RPC id alone, and every client numbers its requests from 0 or 1: two clients in flight at
/// once would take each other's answers (or wait forever). The HTTP layer therefore replaces the
/// id of each request with a process-unique one and puts the client's id back in the response.
package enum RequestIDs {
    private static let counter = Atomic<Int>(0)

    /// `body` with its request id replaced, and the original id; nil when the body is not a single
    /// JSON-RPC request (notifications, responses, batches and malformed JSON pass through as they are).
    package static func rewrite(_ body: Data) -> (body: Data, original: Any)? {
        guard var object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any],
              object["method"] is String, let original = object["id"], !(original is NSNull) else { return nil }
        let (unique, _) = counter.add(1, ordering: .relaxed)
        object["id"] = "codesage-\(unique)"
        guard let rewritten = try? JSONSerialization.data(withJSONObject: object) else { return nil }
        return (rewritten, original)
    }

    /// `response` with the id put back to `original` (unchanged if it is not a JSON object).
    package static func restore(_ response: Data, original: Any) -> Data {
        guard var object = (try? JSONSerialization.jsonObject(with: response)) as? [String: Any] else { return response }
        object["id"] = original
        return (try? JSONSerialization.data(withJSONObject: object)) ?? response
    }
}
