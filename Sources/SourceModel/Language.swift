/// A source language, detected from a file's extension or shebang line.
///
/// `Language` is an open set: the languages chunking understands by definition have
/// constants below; everything else that is text gets a name from its extension
/// (e.g. "markdown") and is chunked in line windows.
public struct Language: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The lower-case name stored in the index and shown in results, e.g. "python".
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static let python = Language(rawValue: "python")
    public static let swift = Language(rawValue: "swift")
    public static let go = Language(rawValue: "go")
    public static let rust = Language(rawValue: "rust")
    public static let javascript = Language(rawValue: "javascript")
    public static let typescript = Language(rawValue: "typescript")
    public static let java = Language(rawValue: "java")
    public static let c = Language(rawValue: "c")
    public static let cpp = Language(rawValue: "cpp")
    public static let shell = Language(rawValue: "shell")
    public static let ruby = Language(rawValue: "ruby")
    public static let text = Language(rawValue: "text")

    /// The languages whose files are chunked by definition (functions, types, top-level blocks).
    public static let definitionAware: Set<Language> = [.python, .swift, .go, .rust, .javascript, .typescript, .java, .c, .cpp]

    /// Extension (lower case, no dot) → language.
    private static let byExtension: [String: Language] = [
        "py": .python, "pyi": .python, "pyw": .python,
        "swift": .swift,
        "go": .go,
        "rs": .rust,
        "js": .javascript, "mjs": .javascript, "cjs": .javascript, "jsx": .javascript,
        "ts": .typescript, "tsx": .typescript, "mts": .typescript, "cts": .typescript,
        "java": .java,
        "c": .c, "h": .c,
        "cc": .cpp, "cpp": .cpp, "cxx": .cpp, "c++": .cpp, "hh": .cpp, "hpp": .cpp, "hxx": .cpp, "ipp": .cpp,
        "sh": .shell, "bash": .shell, "zsh": .shell,
        "rb": .ruby,
        "md": Language(rawValue: "markdown"), "markdown": Language(rawValue: "markdown"),
        "rst": Language(rawValue: "restructuredtext"),
        "txt": .text,
        "json": Language(rawValue: "json"),
        "yaml": Language(rawValue: "yaml"), "yml": Language(rawValue: "yaml"),
        "toml": Language(rawValue: "toml"),
        "html": Language(rawValue: "html"), "htm": Language(rawValue: "html"),
        "css": Language(rawValue: "css"),
        "sql": Language(rawValue: "sql"),
        "kt": Language(rawValue: "kotlin"), "kts": Language(rawValue: "kotlin"),
        "cs": Language(rawValue: "csharp"),
        "php": Language(rawValue: "php"),
        "m": Language(rawValue: "objective-c"), "mm": Language(rawValue: "objective-cpp"),
        "scala": Language(rawValue: "scala"),
        "lua": Language(rawValue: "lua"),
        "pl": Language(rawValue: "perl"),
        "r": Language(rawValue: "r"),
        "proto": Language(rawValue: "protobuf"),
        "cmake": Language(rawValue: "cmake"),
    ]

    /// Interpreter (last path component of a shebang's program, or `env`'s argument) → language.
    private static let byInterpreter: [String: Language] = [
        "python": .python, "python2": .python, "python3": .python,
        "sh": .shell, "bash": .shell, "zsh": .shell, "dash": .shell, "ksh": .shell,
        "node": .javascript, "deno": .typescript, "ts-node": .typescript,
        "ruby": .ruby, "swift": .swift,
        "perl": Language(rawValue: "perl"),
    ]

    /// The language of a file named `path` (only its last component matters), or nil when the
    /// extension says nothing; `Makefile`, `Dockerfile` and friends are recognised by name.
    public static func detect(path: String) -> Language? {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        switch name {
        case "Makefile", "GNUmakefile", "makefile": return Language(rawValue: "make")
        case "Dockerfile": return Language(rawValue: "dockerfile")
        case "CMakeLists.txt": return Language(rawValue: "cmake")
        default: break
        }
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        return byExtension[name[name.index(after: dot)...].lowercased()]
    }

    /// The language named by a shebang line (`#!/usr/bin/env python3`, `#!/bin/bash -e`), or nil.
    public static func detect(shebang firstLine: Substring) -> Language? {
        guard firstLine.hasPrefix("#!") else { return nil }
        var words = firstLine.dropFirst(2).split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let program = words.first else { return nil }
        var interpreter = program.split(separator: "/").last.map(String.init) ?? String(program)
        if interpreter == "env" {
            words.removeFirst()
            while let next = words.first, next.hasPrefix("-") { words.removeFirst() }  // env -S
            guard let named = words.first else { return nil }
            interpreter = String(named)
        }
        if let exact = byInterpreter[interpreter] { return exact }
        // python3.11, ruby2.7 …: strip a trailing version.
        let stem = String(interpreter.prefix { !$0.isNumber && $0 != "." })
        return byInterpreter[stem]
    }

    /// The language of a file from its name, then its first line; nil when neither says.
    public static func detect(path: String, firstLine: Substring) -> Language? {
        detect(path: path) ?? detect(shebang: firstLine)
    }
}
