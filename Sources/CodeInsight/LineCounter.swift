import SourceModel

/// The code, comment and blank lines of a file or a set of files.
public struct LineCounts: Sendable, Codable, Equatable {
    /// Lines with any code on them, including a trailing comment (`x = 1  # note`).
    public var code: Int
    /// Lines with only comment text: line comments, block comment lines, Python docstrings.
    public var comment: Int
    /// Lines with nothing but whitespace (also inside block comments and multi-line strings).
    public var blank: Int

    /// Creates counts; all default to zero.
    public init(code: Int = 0, comment: Int = 0, blank: Int = 0) {
        self.code = code
        self.comment = comment
        self.blank = blank
    }

    /// All lines: `code + comment + blank`.
    public var total: Int { code + comment + blank }

    /// The sum of two counts.
    public static func + (lhs: LineCounts, rhs: LineCounts) -> LineCounts {
        LineCounts(code: lhs.code + rhs.code, comment: lhs.comment + rhs.comment, blank: lhs.blank + rhs.blank)
    }

    /// Adds `rhs` to `lhs`.
    public static func += (lhs: inout LineCounts, rhs: LineCounts) { lhs = lhs + rhs }
}

/// Counts code, comment and blank lines by each language's comment syntax.
///
/// Rules: a line is counted once. It is *blank* when it holds only whitespace (even inside a block
/// comment or a multi-line string); *code* when any byte outside a comment is on it — so code with a
/// trailing comment is code, and every line of a multi-line string literal is code; *comment*
/// otherwise. Python string literals that form a whole statement (docstrings, also `'''…'''` used as
/// block comments) are comment lines. Strings are skipped, so `"//"` or `'#'` start no comment.
///
/// Syntax: `#` for Python, shell (only at a word start), Ruby (plus `=begin`/`=end`), YAML, TOML,
/// Make, CMake, Dockerfile, Perl, R; `//` and `/* */` for Swift, Rust (both nesting), Go, JS, TS,
/// Java, C, C++, Kotlin, C#, Scala, PHP, Objective-C, protobuf (CSS: `/* */` only); `--` for SQL and
/// Lua. Any other language, or none: every non-blank line is code. A line break is `\n` (a `\r`
/// before it is whitespace); the last line counts even without a final line break.
public enum LineCounter {
    /// The line counts of `text` in `language` (nil: unknown, every non-blank line is code).
    public static func count(_ text: String, language: Language?) -> LineCounts {
        count(utf8: Array(text.utf8), language: language)
    }

    /// The line counts of UTF-8 bytes.
    public static func count(utf8 bytes: [UInt8], language: Language?) -> LineCounts {
        var scanner = SourceScanner(bytes: bytes, syntax: CommentSyntax.of(language) ?? CommentSyntax(), recordRoles: false)
        scanner.run()
        return scanner.counts
    }

    /// Whether comment syntax is known for `language` (otherwise non-blank lines all count as code).
    public static func knowsComments(of language: Language?) -> Bool {
        CommentSyntax.of(language) != nil
    }
}
