import CodeSageCore
import MCP

/// Typed access to a tool's arguments, with errors that name the argument.
public struct ToolArguments: Sendable {
    private let values: [String: Value]
    private let tool: String

    /// Wraps the arguments of a call to `tool`.
    public init(_ values: [String: Value], tool: String) {
        self.values = values
        self.tool = tool
    }

    /// An optional string argument.
    public func string(_ name: String) throws(CodeSageError) -> String? {
        guard let value = values[name], !value.isNull else { return nil }
        guard case .string(let text) = value else { throw mismatch(name, expected: "a string", found: value) }
        return text
    }

    /// An optional integer argument within `range`.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(CodeSageError) -> Int? {
        guard let value = values[name], !value.isNull else { return nil }
        let number: Int
        switch value {
        case .int(let int): number = int
        case .double(let double) where double.rounded() == double && abs(double) < 1e15: number = Int(double)
        default: throw mismatch(name, expected: "an integer", found: value)
        }
        guard range.contains(number) else {
            throw CodeSageError(.invalidArgument, "argument \"\(name)\" must be from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return number
    }

    /// A string argument that must be present and not blank.
    public func requiredString(_ name: String) throws(CodeSageError) -> String {
        guard let text = try string(name), !text.allSatisfy(\.isWhitespace) else {
            throw CodeSageError(.invalidArgument, "argument \"\(name)\" is required for \(tool)")
        }
        return text
    }

    /// An optional boolean argument.
    public func bool(_ name: String) throws(CodeSageError) -> Bool? {
        guard let value = values[name], !value.isNull else { return nil }
        guard case .bool(let flag) = value else { throw mismatch(name, expected: "true or false", found: value) }
        return flag
    }

    /// An optional number argument within `range`.
    public func number(_ name: String, in range: ClosedRange<Double>) throws(CodeSageError) -> Double? {
        guard let value = values[name], !value.isNull else { return nil }
        let number: Double
        switch value {
        case .int(let int): number = Double(int)
        case .double(let double): number = double
        default: throw mismatch(name, expected: "a number", found: value)
        }
        guard range.contains(number) else {
            throw CodeSageError(.invalidArgument, "argument \"\(name)\" must be from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return number
    }

    /// An optional list of strings (a single string is read as a list of one).
    public func strings(_ name: String) throws(CodeSageError) -> [String] {
        guard let value = values[name], !value.isNull else { return [] }
        switch value {
        case .string(let text): return [text]
        case .array(let items):
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw mismatch(name, expected: "a list of strings", found: value) }
                result.append(text)
            }
            return result
        default: throw mismatch(name, expected: "a list of strings", found: value)
        }
    }

    /// Rejects arguments the tool does not declare.
    public func rejectUnknown(allowed: Set<String>) throws(CodeSageError) {
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw CodeSageError(.invalidArgument, "unknown argument \"\(unknown)\" for \(tool); accepted: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    private func mismatch(_ name: String, expected: String, found: Value) -> CodeSageError {
        CodeSageError(.invalidArgument, "argument \"\(name)\" must be \(expected), got \(found)")
    }
}
