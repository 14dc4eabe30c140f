import CodeSageCore
import SourceModel

/// A function, method or (optionally) type without documentation.
public struct UndocumentedDefinition: Sendable, Codable, Equatable {
    /// "/"-separated, relative to the root.
    public var path: String
    /// The file's language.
    public var language: Language
    /// The header line (1-based).
    public var line: Int
    /// The last line (1-based).
    public var endLine: Int
    /// What it declares.
    public var kind: DefinitionKind
    /// Its own name.
    public var name: String
    /// Its qualified name, e.g. "Parser.parse".
    public var qualifiedName: String
    /// The header text, whitespace collapsed.
    public var signature: String
}

/// What `UndocumentedFinder` reports.
public struct UndocumentedOptions: Sendable, Equatable {
    /// Report classes, structs, enums, interfaces and type aliases too. Default false (functions and methods only).
    public var includeTypes: Bool
    /// Leave out names private by convention: Python `_x` (not `__x__`), Go names starting lower case or `_`. Default false.
    public var skipPrivate: Bool

    /// Creates options; every argument has the default documented on its property.
    public init(includeTypes: Bool = false, skipPrivate: Bool = false) {
        self.includeTypes = includeTypes
        self.skipPrivate = skipPrivate
    }
}

/// The undocumented definitions of a tree.
public struct UndocumentedReport: Sendable, Codable, Equatable {
    /// The root as given.
    public var root: String
    /// Sorted by path (byte order), then line.
    public var items: [UndocumentedDefinition]
    /// How many definitions of the reported kinds were checked.
    public var checkedCount: Int
    /// How many files of a definition-aware language were read.
    public var scannedFileCount: Int
}

/// Finds functions and methods (and optionally types) without documentation, per
/// `Definition.hasDocumentation`: a Python docstring, elsewhere a comment block directly above.
public enum UndocumentedFinder {
    /// Scans every file of a definition-aware language under `root`. Throws only when the root cannot be walked.
    public static func find(root: String, options: UndocumentedOptions = .init(),
                            discovery: DiscoveryOptions = .init()) throws(CodeSageError) -> UndocumentedReport {
        var items: [UndocumentedDefinition] = []
        var checked = 0
        var scanned = 0
        for file in try SourceFiles.discover(root: root, options: discovery) where file.language.map(Language.definitionAware.contains) ?? true {
            guard let source = SourceFiles.load(file, root: root, options: discovery),
                  let language = source.language, Language.definitionAware.contains(language) else { continue }
            scanned += 1
            let (found, count) = scan(source.text, language: language, path: source.path, options: options)
            items += found
            checked += count
        }
        items.sort { $0.path == $1.path ? $0.line < $1.line : $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return UndocumentedReport(root: root, items: items, checkedCount: checked, scannedFileCount: scanned)
    }

    /// The undocumented definitions of one file's text, by line.
    public static func undocumented(in text: String, language: Language, path: String,
                                    options: UndocumentedOptions = .init()) -> [UndocumentedDefinition] {
        scan(text, language: language, path: path, options: options).0
    }

    /// The undocumented definitions and how many were checked.
    static func scan(_ text: String, language: Language, path: String, options: UndocumentedOptions) -> ([UndocumentedDefinition], Int) {
        var result: [UndocumentedDefinition] = []
        var checked = 0
        for d in DefinitionParser.definitions(in: text, language: language) {
            guard d.kind.isCallable || (options.includeTypes && d.kind != .impl && d.kind != .module) else { continue }
            if options.skipPrivate && isPrivate(d.name, language) { continue }
            checked += 1
            guard !d.hasDocumentation else { continue }
            result.append(UndocumentedDefinition(path: path, language: language, line: d.headerLine, endLine: d.endLine, kind: d.kind,
                                                 name: d.name, qualifiedName: d.qualifiedName, signature: d.signature))
        }
        result.sort { $0.line < $1.line }
        return (result, checked)
    }

    /// Whether `name` is private by the language's convention.
    static func isPrivate(_ name: String, _ language: Language) -> Bool {
        switch language {
        case .python: return name.hasPrefix("_") && !(name.hasPrefix("__") && name.hasSuffix("__") && name.count > 4)
        case .go: return name.first.map { $0 == "_" || $0.isLowercase } ?? false
        default: return false
        }
    }
}
