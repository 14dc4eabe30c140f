import Foundation

/// The one JSON style of what CodeSage writes for machines (`--json`, MCP structured content,
/// the index manifest): snake_case keys, sorted, slashes not escaped.
public enum JSONOutput {
    /// An encoder in that style; `pretty` adds indentation.
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `value` as pretty JSON text ("null" if it cannot be encoded, which plain value types never hit).
    public static func text(_ value: some Encodable) -> String {
        (try? encoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
