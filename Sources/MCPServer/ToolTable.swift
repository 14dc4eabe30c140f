import CodeSageCore
import MCP
import Synchronization

/// What a tool returns: text for the assistant and the same facts as structured JSON.
public struct ToolOutput: Sendable {
    /// Human-readable text content.
    public let text: String
    /// Machine-readable content (CallToolResult.structuredContent).
    public let structured: Value?

    /// Creates an output.
    public init(text: String, structured: Value? = nil) {
        self.text = text
        self.structured = structured
    }
}

/// One MCP tool: its name, description, JSON input schema and handler.
public struct ToolDefinition: Sendable {
    /// The handler: arguments in, output or a CodeSageError out.
    public typealias Handler = @Sendable ([String: Value]) async throws -> ToolOutput

    public let name: String
    public let description: String
    public let inputSchema: Value
    /// The tool changes nothing outside the server's memory.
    public let readOnly: Bool
    /// The tool may delete or overwrite what it did not create (hint for a client's confirmation prompt).
    public let destructive: Bool
    /// Calling it twice with the same arguments has the effect of calling it once.
    public let idempotent: Bool
    public let handler: Handler

    /// Creates a tool; by default read-only (and so idempotent and not destructive).
    public init(name: String, description: String, inputSchema: Value, readOnly: Bool = true, destructive: Bool = false,
                idempotent: Bool = true, handler: @escaping Handler) {
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
        self.readOnly = readOnly
        self.destructive = destructive
        self.idempotent = idempotent
        self.handler = handler
    }

    /// The MCP `Tool` for tools/list, with every annotation stated (their defaults assume the worst).
    var mcpTool: Tool {
        Tool(name: name, description: description, inputSchema: inputSchema,
             annotations: .init(readOnlyHint: readOnly, destructiveHint: destructive, idempotentHint: idempotent, openWorldHint: false))
    }
}

/// The one table that generates both `tools/list` and `tools/call` dispatch.
public struct ToolTable: Sendable {
    /// The tools, in the order tools/list shows them.
    public let tools: [ToolDefinition]
    /// Calls, errors and latency per tool.
    public let metrics: ToolMetrics
    /// Whether new calls are refused (a server shutting down).
    public let gate = CallGate()

    /// Creates a table; tool names must be unique.
    public init(_ tools: [ToolDefinition], metrics: ToolMetrics = ToolMetrics()) {
        precondition(Set(tools.map(\.name)).count == tools.count, "duplicate tool names")
        self.tools = tools
        self.metrics = metrics
    }

    /// The tools/list result.
    public var listResult: ListTools.Result { ListTools.Result(tools: tools.map(\.mcpTool)) }

    /// Runs a tools/call; every failure becomes an `isError` result, never a crash or a protocol error.
    public func call(_ parameters: CallTool.Parameters) async -> CallTool.Result {
        guard let tool = tools.first(where: { $0.name == parameters.name }) else {
            let known = tools.map(\.name).joined(separator: ", ")
            return Self.error("unknown tool \"\(parameters.name)\"; known tools: \(known)")
        }
        guard gate.isOpen else { return Self.error("\(tool.name): the server is shutting down; call again on its successor") }
        let started = ContinuousClock.now
        let result: CallTool.Result
        do {
            let output = try await tool.handler(parameters.arguments ?? [:])
            result = CallTool.Result(content: [.text(text: output.text, annotations: nil, _meta: nil)],
                                     structuredContent: output.structured, isError: false)
        } catch let error as CodeSageError {
            result = Self.error("\(tool.name): \(error.description)")
        } catch {
            result = Self.error("\(tool.name): \(error)")
        }
        let elapsed = ContinuousClock.now - started
        metrics.record(tool: tool.name, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                       failed: result.isError == true)
        return result
    }

    /// Longest error message sent back: an error that quotes a hostile 900 KB argument stays readable.
    static let maxErrorCharacters = 2_000

    static func error(_ message: String) -> CallTool.Result {
        var text = message
        if text.count > maxErrorCharacters {
            text = String(text.prefix(maxErrorCharacters)) + "… (\(text.count - maxErrorCharacters) more characters)"
        }
        return CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], isError: true)
    }
}

/// Once closed, refuses new tool calls: a transport shutting down (stdio) closes it, then waits for the
/// answers of the requests it already has.
public final class CallGate: Sendable {
    private let closed = Atomic<Bool>(false)

    public init() {}

    /// Whether new calls are admitted.
    public var isOpen: Bool { !closed.load(ordering: .acquiring) }

    /// Refuses every call from now on.
    public func close() { closed.store(true, ordering: .releasing) }
}
