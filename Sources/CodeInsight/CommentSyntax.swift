import SourceModel

/// How one language writes comments and string literals, as far as line counting and import
/// scanning need to know.
struct CommentSyntax: Sendable {
    /// Markers that start a comment running to the end of the line, e.g. `//`, `#`, `--`.
    var lineComments: [[UInt8]] = []
    /// Shell: `#` starts a comment only at the start of a word (`$#`, `a#b` are not comments).
    var hashAtWordStart = false
    /// `/*` … `*/`.
    var blockComments = false
    /// Block comments nest (Swift, Rust).
    var nestedBlocks = false
    /// Ruby `=begin` … `=end` blocks at the start of a line.
    var rubyBlocks = false
    /// `"…"` strings may span lines (shell, Ruby, Rust).
    var multilineDoubleQuote = false
    /// What a single quote starts.
    var singleQuote: SingleQuote = .none
    /// `"""…"""` (Python, Swift, Java text blocks); Python also `'''…'''`.
    var tripleDouble = false
    /// `'''…'''` (Python).
    var tripleSingle = false
    /// What a backtick starts.
    var backtick: Backtick = .none
    /// Swift raw strings `#"…"#`, `##"""…"""##`.
    var swiftRaw = false
    /// Rust raw strings `r"…"`, `r#"…"#`, `br#"…"#`.
    var rustRaw = false
    /// C++ raw strings `R"delim(…)delim"`.
    var cppRaw = false
    /// JavaScript regular-expression literals `/…/` where an operand is expected.
    var jsRegex = false
    /// Python: a string that is a whole statement (a docstring) counts as comment; brackets are tracked.
    var pythonDocstrings = false
    /// Python string prefixes (`r`, `b`, `f`, `u`, `rb` …) before a quote.
    var pythonPrefixes = false

    /// What `'` starts.
    enum SingleQuote: Sendable {
        /// Nothing: `'` is ordinary code (Swift).
        case none
        /// A one-line string or character literal with `\` escapes (C, Go, Java, JS, Python).
        case string
        /// A string that may span lines, `\` escapes (Ruby).
        case multilineString
        /// A string that may span lines, no escapes (shell).
        case rawMultiline
        /// A Rust character literal, or a lifetime (`'a`) when no closing quote follows one character.
        case rustChar
        /// C/C++: a character literal, or a digit separator (`1'000`) between hex digits.
        case cChar
    }

    /// What `` ` `` starts.
    enum Backtick: Sendable {
        /// Nothing.
        case none
        /// A string that spans lines without escapes (Go raw strings).
        case raw
        /// A string that spans lines with escapes (JS template literals, shell command substitution).
        case escaped
    }

    /// The syntax of `language`, or nil when its comments are unknown (every non-blank line is code).
    static func of(_ language: Language?) -> CommentSyntax? {
        guard let language else { return nil }
        var s = CommentSyntax()
        switch language {
        case .python:
            s.lineComments = [[UInt8(ascii: "#")]]
            s.singleQuote = .string
            s.tripleDouble = true
            s.tripleSingle = true
            s.pythonDocstrings = true
            s.pythonPrefixes = true
        case .shell:
            s.lineComments = [[UInt8(ascii: "#")]]
            s.hashAtWordStart = true
            s.multilineDoubleQuote = true
            s.singleQuote = .rawMultiline
            s.backtick = .escaped
        case .ruby:
            s.lineComments = [[UInt8(ascii: "#")]]
            s.rubyBlocks = true
            s.multilineDoubleQuote = true
            s.singleQuote = .multilineString
        case .swift:
            s.cStyle()
            s.nestedBlocks = true
            s.singleQuote = .none
            s.tripleDouble = true
            s.swiftRaw = true
        case .rust:
            s.cStyle()
            s.nestedBlocks = true
            s.multilineDoubleQuote = true
            s.singleQuote = .rustChar
            s.rustRaw = true
        case .go:
            s.cStyle()
            s.backtick = .raw
        case .javascript, .typescript:
            s.cStyle()
            s.backtick = .escaped
            s.jsRegex = true
        case .java:
            s.cStyle()
            s.tripleDouble = true
        case .c:
            s.cStyle()
            s.singleQuote = .cChar
        case .cpp:
            s.cStyle()
            s.singleQuote = .cChar
            s.cppRaw = true
        default:
            switch language.rawValue {
            case "kotlin", "csharp", "scala", "php", "objective-c", "objective-cpp", "protobuf":
                s.cStyle()
                if language.rawValue == "kotlin" || language.rawValue == "scala" { s.tripleDouble = true }
            case "css":
                s.blockComments = true
                s.singleQuote = .string
            case "yaml", "toml", "make", "cmake", "dockerfile", "perl", "r":
                s.lineComments = [[UInt8(ascii: "#")]]
                s.singleQuote = .string
            case "sql", "lua":
                s.lineComments = [Array("--".utf8)]
                s.singleQuote = .string
            default:
                return nil
            }
        }
        return s
    }

    /// `//` and `/* */` comments, one-line `"` and `'` literals.
    private mutating func cStyle() {
        lineComments = [Array("//".utf8)]
        blockComments = true
        singleQuote = .string
    }
}
