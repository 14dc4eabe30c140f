/// What a definition found by `DefinitionParser` declares.
public enum DefinitionKind: String, Sendable, Codable {
    /// A free function (also a nested function or a Go function without receiver).
    case function
    /// A function declared inside a type, impl or extension (or a Go function with a receiver).
    case method
    /// A class (Swift `actor` too).
    case `class`
    /// A struct (C, C++, Swift, Rust, Go `struct` types).
    case `struct`
    /// An enumeration.
    case `enum`
    /// A protocol, trait or interface.
    case interface
    /// A Rust `impl` block or a Swift `extension`.
    case impl
    /// A type alias, a TypeScript `type`, or a Go `type` that is not a struct or interface.
    case type
    /// A namespace, module or Rust `mod`.
    case module
}

extension DefinitionKind {
    /// Whether definitions of this kind have executable bodies (functions and methods).
    public var isCallable: Bool { self == .function || self == .method }
}

/// One definition found in a source file.
public struct Definition: Sendable, Equatable {
    /// The definition's own name, e.g. "get_current_context".
    public var name: String
    /// The name qualified by its enclosing definitions joined with ".", e.g. "Context.get_current_context".
    public var qualifiedName: String
    /// What the definition declares.
    public var kind: DefinitionKind
    /// The first line (1-based): the first decorator/attribute/annotation line, else the header line.
    public var startLine: Int
    /// The line (1-based) with `def`/`func`/`fn`/`class`… (for C-like functions, where the declaration starts).
    public var headerLine: Int
    /// The last line (1-based, inclusive).
    public var endLine: Int
    /// The first line of the contiguous comment block directly above `startLine`, if any.
    public var commentStartLine: Int?
    /// Python: the body starts with a string literal; others: a comment block directly above (Rust also `#[doc]`).
    public var hasDocumentation: Bool
    /// The header text up to the body, whitespace collapsed, e.g. "def f(x: int = 0) -> int".
    public var signature: String
    /// The number of enclosing definitions: 0 at top level, 1 for a method in a class, etc.
    public var depth: Int
    /// Parameter names, best effort.
    public var parameters: [String]

    /// Creates a definition from all of its fields.
    public init(name: String, qualifiedName: String, kind: DefinitionKind, startLine: Int, headerLine: Int,
                endLine: Int, commentStartLine: Int?, hasDocumentation: Bool, signature: String, depth: Int,
                parameters: [String]) {
        self.name = name
        self.qualifiedName = qualifiedName
        self.kind = kind
        self.startLine = startLine
        self.headerLine = headerLine
        self.endLine = endLine
        self.commentStartLine = commentStartLine
        self.hasDocumentation = hasDocumentation
        self.signature = signature
        self.depth = depth
        self.parameters = parameters
    }
}

/// Finds the definitions (functions, methods, types) in source text, without a full parser.
///
/// Python is read by indentation; the brace languages by a scanner that skips strings and comments
/// and recognises headers before `{`. Both never fail: malformed input gives fewer or wider definitions.
public enum DefinitionParser {
    /// All definitions in `text` (functions, methods, nested functions, types), in source order.
    /// Empty for languages without a parser.
    public static func definitions(in text: String, language: Language) -> [Definition] {
        let source = SourceLines(text)
        return definitions(in: source, language: language)
    }

    /// The definitions of already split source text.
    static func definitions(in source: SourceLines, language: Language) -> [Definition] {
        guard !source.bytes.isEmpty else { return [] }
        var result: [Definition]
        switch language {
        case .python:
            result = PythonParser(source: source).parse()
        case .swift, .go, .rust, .javascript, .typescript, .java, .c, .cpp:
            guard let dialect = BraceDialect(language) else { return [] }
            result = BraceParser(source: source, dialect: dialect).parse()
        default:
            return []
        }
        result.sort { ($0.startLine, $0.depth, $0.headerLine) < ($1.startLine, $1.depth, $1.headerLine) }
        return result
    }
}
