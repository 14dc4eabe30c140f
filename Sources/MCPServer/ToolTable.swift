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
    /// Calls in flight, and whether new ones are refused (a server shutting down).
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
        guard gate.enter() else { return Self.error("\(tool.name): the server is shutting down; call again on its successor") }
        defer { gate.leave() }
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

/// Counts the tool calls in flight and, once closed, refuses new ones: what a graceful shutdown of a
/// transport without its own drain (stdio) waits on.
public final class CallGate: Sendable {
    private let state = Mutex((inflight: 0, closed: false))

    public init() {}

    /// Admits a call; false once closed.
    func enter() -> Bool {
        state.withLock { s in
            guard !s.closed else { return false }
            s.inflight += 1
            return true
        }
    }

    func leave() { state.withLock { $0.inflight -= 1 } }

    /// Calls in flight now.
    public var inflight: Int { state.withLock { $0.inflight } }

    /// Refuses new calls, then waits until those in flight have finished or `deadline` has passed; returns
    /// how many were still running.
    @discardableResult
    public func closeAndDrain(deadline: Duration) async -> Int {
        state.withLock { $0.closed = true }
        let end = ContinuousClock.now + deadline
        while inflight > 0, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
        return inflight
    }
}
