import CodeSageCore
import SourceModel

/// A definition and the definitions nested in it.
public struct DefinitionNode: Sendable, Codable, Equatable {
    /// What it declares.
    public var kind: DefinitionKind
    /// Its own name.
    public var name: String
    /// Its name qualified by the enclosing definitions, joined with ".".
    public var qualifiedName: String
    /// First line (1-based), including decorators/attributes.
    public var startLine: Int
    /// The line of the `def`/`func`/`class` … header.
    public var headerLine: Int
    /// Last line (1-based, inclusive).
    public var endLine: Int
    /// The header text, whitespace collapsed.
    public var signature: String
    /// Whether it has a docstring (Python) or a comment block directly above it.
    public var documented: Bool
    /// Parameter names, best effort.
    public var parameters: [String]
    /// The definitions directly inside it, in source order.
    public var children: [DefinitionNode]
}

/// The outline of one file: its definitions as a tree, its imports and its line counts.
public struct FileStructure: Sendable, Codable, Equatable {
    /// The path as given.
    public var path: String
    /// The file's language; nil when neither its name nor a shebang says.
    public var language: Language?
    /// Code, comment and blank lines.
    public var lines: LineCounts
    /// Imports in source order.
    public var imports: [Import]
    /// Top-level definitions, each with its nested ones (empty for languages `DefinitionParser` does not read).
    public var definitions: [DefinitionNode]

    /// The structure of `text`; `language` nil is detected from `path` and then a shebang.
    public static func analyze(text: String, path: String, language: Language? = nil,
                               context: DependencyContext = .init()) -> FileStructure {
        let language = language ?? Language.detect(path: path) ?? SourceFiles.detectShebang(text)
        let definitions = language.map { DefinitionParser.definitions(in: text, language: $0) } ?? []
        return FileStructure(path: path, language: language, lines: LineCounter.count(text, language: language),
                             imports: DependencyScanner.imports(in: text, language: language, context: context),
                             definitions: tree(definitions))
    }

    /// Reads `path` (relative to `root`, no `..`) and analyses it, classifying imports with the root's context.
    /// Throws `.invalidArgument` for an absolute or escaping path or a binary or too large file,
    /// `.notFound`/`.io` when it cannot be read, and discovery's errors for a bad root.
    public static func make(root: String, path: String, options: DiscoveryOptions = .init()) throws(CodeSageError) -> FileStructure {
        let parts = path.split(separator: "/")
        guard !path.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
            throw CodeSageError(.invalidArgument, "\(path) must be a path relative to \(root), without '..'")
        }
        let context = try DependencyContext.make(root: root, options: options)
        switch try SourceText.load(path: SourceFiles.join(root, path), maxSize: options.maxFileSize, root: root) {
        case .text(let text, _):
            return analyze(text: text, path: path, context: context)
        case .binary:
            throw CodeSageError(.invalidArgument, "\(path) is a binary file")
        case .tooLarge:
            throw CodeSageError(.invalidArgument, "\(path) is larger than \(options.maxFileSize) bytes")
        }
    }

    /// Nests definitions (in parser order: by start line, then depth) by their depth and line span.
    static func tree(_ definitions: [Definition]) -> [DefinitionNode] {
        var parent = [Int?](repeating: nil, count: definitions.count)
        var stack: [Int] = []
        for (i, d) in definitions.enumerated() {
            while let top = stack.last, definitions[top].depth >= d.depth || definitions[top].endLine < d.startLine { stack.removeLast() }
            parent[i] = stack.last
            stack.append(i)
        }
        var children = [[Int]](repeating: [], count: definitions.count)
        var roots: [Int] = []
        for i in definitions.indices {
            if let p = parent[i] { children[p].append(i) } else { roots.append(i) }
        }
        var built = [DefinitionNode?](repeating: nil, count: definitions.count)
        for i in definitions.indices.reversed() {
            let d = definitions[i]
            var kids: [DefinitionNode] = []
            for c in children[i] { if let node = built[c] { kids.append(node); built[c] = nil } }
            built[i] = DefinitionNode(kind: d.kind, name: d.name, qualifiedName: d.qualifiedName, startLine: d.startLine,
                                      headerLine: d.headerLine, endLine: d.endLine, signature: d.signature,
                                      documented: d.hasDocumentation, parameters: d.parameters, children: kids)
        }
        return roots.compactMap { built[$0] }
    }
}
