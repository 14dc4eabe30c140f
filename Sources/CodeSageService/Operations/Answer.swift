/// What every operation of the workspace returns: a value that encodes to the JSON of MCP structured
/// content and `--json` (snake_case keys, `JSONOutput`), and renders to the text an assistant or a
/// terminal reads. Each answer renders itself here, once, for every adapter.
public protocol Answer: Encodable, Sendable {
    /// The answer as text for an assistant or a terminal.
    var text: String { get }
}
