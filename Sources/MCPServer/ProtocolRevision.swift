import Foundation
import MCP

/// The MCP revision one HTTP request speaks, decided per request: 2026-07-28 when its `_meta` names the
/// version (stateless: every request self-describing, headers checked), otherwise a legacy revision
/// (2025-11-25 and older, which begin with `initialize` and send `MCP-Protocol-Version` after it).
package enum ProtocolRevision: Equatable, Sendable {
    case stateless(String)
    case legacy(String)

    /// The current revision.
    static let current = "2026-07-28"
    /// The revisions that begin with `initialize`, newest first.
    static let legacyVersions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    /// Every revision this server speaks, newest first.
    static let supported = [current] + legacyVersions
    /// What a legacy request without an `MCP-Protocol-Version` header speaks (the transports spec's rule).
    static let legacyDefault = "2025-03-26"

    /// Whether requests of this revision are self-describing (no handshake).
    var isStateless: Bool { if case .stateless = self { return true } else { return false } }

    /// The version an `initialize` gets: the client's if this server speaks it, else the newest legacy one.
    static func negotiate(_ requested: String) -> String {
        legacyVersions.contains(requested) ? requested : legacyVersions[0]
    }

    /// Why a request is refused before it is dispatched.
    package struct Refusal: Error, Equatable {
        var code: JSONRPCDispatcher.ErrorCode
        var message: String
        var data: Value?
    }

    /// The revision of `message`, or why it is refused; `headers` have lower-cased names.
    package static func of(_ message: Incoming, headers: [String: String]) -> Result<ProtocolRevision, Refusal> {
        let header = headers["mcp-protocol-version"]
        if message.method == "initialize" { return .success(.legacy(header ?? legacyDefault)) }
        guard let meta = message.meta, let version = meta["io.modelcontextprotocol/protocolVersion"]?.stringValue else {
            guard let header else { return .success(.legacy(legacyDefault)) }
            if header == current {
                return .failure(Refusal(code: .invalidParams, message:
                    "Invalid params: a \(current) request carries \"io.modelcontextprotocol/protocolVersion\" in params._meta"))
            }
            guard legacyVersions.contains(header) else { return .failure(unsupported(header)) }
            return .success(.legacy(header))
        }
        guard supported.contains(version) else { return .failure(unsupported(version)) }
        guard version == current else { return .success(.legacy(version)) }
        guard header == version else {
            return .failure(mismatch("MCP-Protocol-Version header value \(quoted(header)) does not match body value '\(version)'"))
        }
        let method = message.method ?? ""
        guard let methodHeader = headers["mcp-method"], methodHeader == method else {
            return .failure(mismatch("Mcp-Method header value \(quoted(headers["mcp-method"])) does not match body value '\(method)'"))
        }
        if case .call(let call) = message.params {
            let name = headers["mcp-name"].map(decodedHeaderValue)
            guard name == call.name else {
                return .failure(mismatch("Mcp-Name header value \(quoted(headers["mcp-name"])) does not match body value '\(call.name)'"))
            }
        }
        guard meta["io.modelcontextprotocol/clientCapabilities"]?.objectValue != nil else {
            return .failure(Refusal(code: .invalidParams, message:
                "Invalid params: \"io.modelcontextprotocol/clientCapabilities\" is missing from params._meta (an empty object declares none)"))
        }
        return .success(.stateless(version))
    }

    /// A header value as sent: plain, or `=?base64?…?=` for values that are not plain ASCII.
    static func decodedHeaderValue(_ value: String) -> String {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11,
              let data = Data(base64Encoded: String(value.dropFirst(9).dropLast(2))),
              let text = String(data: data, encoding: .utf8) else { return value }
        return text
    }

    private static func unsupported(_ requested: String) -> Refusal {
        Refusal(code: .unsupportedProtocolVersion, message: "Unsupported protocol version \(requested); this server speaks \(supported.joined(separator: ", "))",
                data: .object(["supported": .array(supported.map { .string($0) }), "requested": .string(requested)]))
    }

    private static func mismatch(_ detail: String) -> Refusal {
        Refusal(code: .headerMismatch, message: "Header mismatch: " + detail)
    }

    private static func quoted(_ value: String?) -> String { value.map { "'\($0)'" } ?? "(missing)" }
}
