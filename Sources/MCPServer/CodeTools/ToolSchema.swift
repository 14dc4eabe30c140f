import CodeSageCore
import Foundation
import CodeSageService
import MCP

/// Schema fragments the code tools share.
enum Schema {
    static func object(_ properties: [String: Value], required: [String] = []) -> Value {
        .object([
            "type": "object",
            "properties": .object(properties),
            "required": .array(required.map { .string($0) }),
            "additionalProperties": false,
        ])
    }
    static let root: Value = .object(["type": "string", "description": "The repository root (absolute, or relative to the server's folder)."])
    static func string(_ description: String) -> Value { .object(["type": "string", "description": .string(description)]) }
    static func integer(_ description: String, _ range: ClosedRange<Int>) -> Value {
        .object(["type": "integer", "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound), "description": .string(description)])
    }
    static func strings(_ description: String) -> Value {
        .object(["type": "array", "items": .object(["type": "string"]), "description": .string(description)])
    }
    static func boolean(_ description: String) -> Value { .object(["type": "boolean", "description": .string(description)]) }
    static let fileTypes = strings("Only these file types: extensions (\"py\", \".go\") or language names (\"rust\").")
    static let excludePatterns = strings("Leave out paths matching these .gitignore-style patterns (\"tests/\", \"*_test.go\").")
}

/// Codable results as MCP structured content (snake_case keys, like the CLI's --json).
func structured(_ value: some Encodable) throws(CodeSageError) -> Value {
    do {
        return try JSONDecoder().decode(Value.self, from: JSONOutput.encoder(pretty: false).encode(value))
    } catch {
        throw CodeSageError(.internal, "cannot encode a result", cause: error)
    }
}

extension ToolOutput {
    /// A workspace answer: its text, and the same facts as structured content.
    init(_ answer: some Answer) throws(CodeSageError) {
        self.init(text: answer.text, structured: try MCPServer.structured(answer))
    }
}
