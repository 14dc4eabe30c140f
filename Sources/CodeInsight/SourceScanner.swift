/// What a byte of source text is part of.
enum ByteRole: UInt8, Sendable {
    /// Code (also whitespace and line breaks).
    case code = 0
    /// A comment, including its markers.
    case comment = 1
    /// A string or character literal (or JS regular expression), including its quotes.
    case string = 2
}

/// One pass over a file's UTF-8 bytes that classifies every line as code, comment or blank, and
/// optionally every byte by role (for the import scanners). Hand-written, linear, never fails:
/// an unterminated string or comment runs to the end of its line (one-line literals) or of the file.
struct SourceScanner {
    /// The file's bytes.
    private let bytes: [UInt8]
    /// The language's comment and string syntax.
    private let syntax: CommentSyntax
    /// Per-byte roles, when asked for.
    private(set) var roles: [ByteRole]
    /// Whether `roles` is filled in.
    private let recordRoles: Bool
    /// The totals so far.
    private(set) var counts = LineCounts()

    /// What the scanner is inside.
    private enum Mode {
        case code
        case block(depth: Int)
        case rubyBlock(last: Bool)
        case string(Literal)
    }

    /// An open string literal.
    private struct Literal {
        var close: [UInt8]
        var escapes: Bool
        var multiline: Bool
        var docstring: Bool
    }

    private var mode = Mode.code
    private var escaped = false
    private var lineHasCode = false
    private var lineHasComment = false
    private var lineHasDoc = false
    private var pendingDocLines = 0
    private var bracketDepth = 0
    private var continuation = false
    private var lastCodeByte: UInt8 = 0
    private var lastSignificant: UInt8? = nil

    /// Prepares a scan of `bytes`; `recordRoles` fills `roles` as well.
    init(bytes: [UInt8], syntax: CommentSyntax, recordRoles: Bool) {
        self.bytes = bytes
        self.syntax = syntax
        self.recordRoles = recordRoles
        self.roles = recordRoles ? [ByteRole](repeating: .code, count: bytes.count) : []
    }

    /// Scans the whole text; afterwards `counts` (and `roles`) are complete.
    mutating func run() {
        let n = bytes.count
        var i = 0
        var lineStart = 0
        while i < n {
            let b = bytes[i]
            if i == lineStart && syntax.rubyBlocks { rubyLineStart(at: i) }
            if b == 10 {
                if case .string(let literal) = mode, !literal.multiline, !escaped { mode = .code }
                escaped = false
                endLine()
                i += 1
                lineStart = i
                continue
            }
            switch mode {
            case .rubyBlock:
                mark(i, 1, .comment)
                if !Self.isSpace(b) { lineHasComment = true }
                i += 1
            case .block(let depth):
                mark(i, 1, .comment)
                if !Self.isSpace(b) { lineHasComment = true }
                if b == 42, i + 1 < n, bytes[i + 1] == 47 {
                    mark(i, 2, .comment)
                    mode = depth > 1 ? .block(depth: depth - 1) : .code
                    i += 2
                } else if syntax.nestedBlocks, b == 47, i + 1 < n, bytes[i + 1] == 42 {
                    mark(i, 2, .comment)
                    mode = .block(depth: depth + 1)
                    i += 2
                } else {
                    i += 1
                }
            case .string(let literal):
                mark(i, 1, .string)
                if escaped {
                    escaped = false
                    markText(b, literal)
                    i += 1
                } else if matches(literal.close, at: i) {
                    mark(i, literal.close.count, .string)
                    i += literal.close.count
                    mode = .code
                    lastSignificant = 34
                    if literal.docstring { resolveDocstring(after: i) } else { lineHasCode = true }
                } else {
                    if literal.escapes && b == 92 { escaped = true }
                    markText(b, literal)
                    i += 1
                }
            case .code:
                i = scanCode(at: i)
            }
        }
        if n > 0 && bytes[n - 1] != 10 { endLine() }
        if pendingDocLines > 0 {
            counts.comment += pendingDocLines  // an unterminated docstring
            pendingDocLines = 0
        }
    }

    /// Handles one token start in code at `i`; returns the next index.
    private mutating func scanCode(at i: Int) -> Int {
        let n = bytes.count
        let b = bytes[i]
        if Self.isSpace(b) { return i + 1 }
        if syntax.blockComments, b == 47, i + 1 < n, bytes[i + 1] == 42 {
            mark(i, 2, .comment)
            lineHasComment = true
            mode = .block(depth: 1)
            return i + 2
        }
        for marker in syntax.lineComments where matches(marker, at: i) {
            if syntax.hashAtWordStart, i > 0, !Self.startsShellWord(after: bytes[i - 1]) { continue }
            lineHasComment = true
            var j = i
            while j < n && bytes[j] != 10 { j += 1 }
            mark(i, j - i, .comment)
            return j
        }
        let atStatementStart = syntax.pythonDocstrings && !lineHasCode && bracketDepth == 0 && !continuation
        // Python string prefixes: r"", rb'', f"""…""".
        if syntax.pythonPrefixes, Self.isLetter(b), i == 0 || !Self.isIdentifier(bytes[i - 1]) {
            var j = i
            while j < n, j - i < 2, Self.isPythonPrefix(bytes[j]) { j += 1 }
            if j > i, j < n, bytes[j] == 34 || bytes[j] == 39 {
                return openQuote(at: j, from: i, statementStart: atStatementStart)
            }
        }
        switch b {
        case 34, 39:
            return openQuote(at: i, from: i, statementStart: atStatementStart)
        case 96 where syntax.backtick != .none:
            open(from: i, length: 1, Literal(close: [96], escapes: syntax.backtick == .escaped, multiline: true, docstring: false))
            return i + 1
        case 35 where syntax.swiftRaw:
            var j = i
            while j < n && bytes[j] == 35 { j += 1 }
            let hashes = [UInt8](repeating: 35, count: j - i)
            if j < n && bytes[j] == 34 {
                let triple = matches([34, 34, 34], at: j)
                let quotes: [UInt8] = triple ? [34, 34, 34] : [34]
                open(from: i, length: j - i + quotes.count, Literal(close: quotes + hashes, escapes: false, multiline: triple, docstring: false))
                return j + quotes.count
            }
            code(i, j - i)
            return j
        case 114 where syntax.rustRaw && (i == 0 || !Self.isIdentifier(bytes[i - 1])),
             98 where syntax.rustRaw && (i == 0 || !Self.isIdentifier(bytes[i - 1])):
            var j = i + (b == 98 && i + 1 < n && bytes[i + 1] == 114 ? 2 : 1)
            guard b == 114 || j == i + 2 else { break }
            let hashStart = j
            while j < n && bytes[j] == 35 { j += 1 }
            if j < n && bytes[j] == 34 {
                let close = [UInt8(34)] + [UInt8](repeating: 35, count: j - hashStart)
                open(from: i, length: j - i + 1, Literal(close: close, escapes: false, multiline: true, docstring: false))
                return j + 1
            }
            if j > hashStart { code(i, j - i); return j }  // r#ident
        case 82 where syntax.cppRaw && i + 1 < n && bytes[i + 1] == 34:
            if i == 0 || !Self.isIdentifier(bytes[i - 1]) || [76, 117, 85, 56].contains(bytes[i - 1]) {
                var j = i + 2
                while j < n, j - i - 2 <= 16, bytes[j] != 40, bytes[j] != 41, bytes[j] != 92, !Self.isSpace(bytes[j]), bytes[j] != 10, bytes[j] != 34 { j += 1 }
                if j < n, bytes[j] == 40, j - i - 2 <= 16 {
                    let close = [UInt8(41)] + Array(bytes[(i + 2)..<j]) + [34]
                    open(from: i, length: j - i + 1, Literal(close: close, escapes: false, multiline: true, docstring: false))
                    return j + 1
                }
            }
        case 47 where syntax.jsRegex && regexAllowed():
            if let end = regexEnd(from: i) {
                mark(i, end - i, .string)
                lineHasCode = true
                lastSignificant = 34
                return end
            }
        default:
            break
        }
        code(i, 1)
        if syntax.pythonDocstrings {
            switch b {
            case 40, 91, 123: bracketDepth += 1
            case 41, 93, 125: bracketDepth = max(0, bracketDepth - 1)
            default: break
            }
        }
        return i + 1
    }

    /// Opens the literal whose quote is at `q` (prefix from `start`), by the language's rules.
    private mutating func openQuote(at q: Int, from start: Int, statementStart: Bool) -> Int {
        let n = bytes.count
        let quote = bytes[q]
        let doc = statementStart
        if quote == 34 {
            if syntax.tripleDouble && matches([34, 34, 34], at: q) {
                open(from: start, length: q - start + 3, Literal(close: [34, 34, 34], escapes: true, multiline: true, docstring: doc))
                return q + 3
            }
            open(from: start, length: q - start + 1, Literal(close: [34], escapes: true, multiline: syntax.multilineDoubleQuote, docstring: doc))
            return q + 1
        }
        switch syntax.singleQuote {
        case .none:
            code(q, 1)
            return q + 1
        case .string:
            if syntax.tripleSingle && matches([39, 39, 39], at: q) {
                open(from: start, length: q - start + 3, Literal(close: [39, 39, 39], escapes: true, multiline: true, docstring: doc))
                return q + 3
            }
            open(from: start, length: q - start + 1, Literal(close: [39], escapes: true, multiline: false, docstring: doc))
            return q + 1
        case .multilineString:
            open(from: start, length: 1, Literal(close: [39], escapes: true, multiline: true, docstring: false))
            return q + 1
        case .rawMultiline:
            open(from: start, length: 1, Literal(close: [39], escapes: false, multiline: true, docstring: false))
            return q + 1
        case .rustChar:
            if q + 1 < n && bytes[q + 1] == 92 {
                open(from: q, length: 1, Literal(close: [39], escapes: true, multiline: false, docstring: false))
                return q + 1
            }
            if q + 1 < n, bytes[q + 1] != 10 {
                let length = Self.scalarLength(bytes[q + 1])
                if q + 1 + length < n && bytes[q + 1 + length] == 39 {
                    mark(q, length + 2, .string)
                    lineHasCode = true
                    lastSignificant = 34
                    return q + length + 2
                }
            }
            code(q, 1)  // a lifetime or label: 'a
            return q + 1
        case .cChar:
            if q > 0, q + 1 < n, Self.isHexDigit(bytes[q - 1]), Self.isHexDigit(bytes[q + 1]) {
                code(q, 1)  // digit separator
                return q + 1
            }
            open(from: q, length: 1, Literal(close: [39], escapes: true, multiline: false, docstring: false))
            return q + 1
        }
    }

    /// Enters a literal whose opening (prefix and quotes) is `length` bytes from `start`.
    private mutating func open(from start: Int, length: Int, _ literal: Literal) {
        mark(start, length, .string)
        if literal.docstring { lineHasDoc = true } else { lineHasCode = true }
        mode = .string(literal)
        escaped = false
    }

    /// After a statement-start string closes: a docstring when nothing but a comment follows on its line.
    private mutating func resolveDocstring(after j: Int) {
        var k = j
        while k < bytes.count && Self.isSpace(bytes[k]) { k += 1 }
        if k == bytes.count || bytes[k] == 10 || bytes[k] == 35 {
            counts.comment += pendingDocLines
            lineHasComment = true
        } else {
            counts.code += pendingDocLines
            lineHasCode = true
        }
        pendingDocLines = 0
        lineHasDoc = false
    }

    /// Counts the line that just ended and resets the per-line state.
    private mutating func endLine() {
        if lineHasCode {
            counts.code += 1
        } else if lineHasComment {
            counts.comment += 1
        } else if lineHasDoc {
            pendingDocLines += 1
        } else {
            counts.blank += 1
        }
        if case .rubyBlock(last: true) = mode { mode = .code }
        continuation = syntax.pythonDocstrings && lineHasCode && lastCodeByte == 92
        lineHasCode = false
        lineHasComment = false
        lineHasDoc = false
        lastCodeByte = 0
    }

    /// Ruby: `=begin` at a line start opens a comment block, `=end` closes it after its line.
    private mutating func rubyLineStart(at i: Int) {
        switch mode {
        case .code where matches(Array("=begin".utf8), at: i):
            mode = .rubyBlock(last: false)
        case .rubyBlock where matches(Array("=end".utf8), at: i):
            mode = .rubyBlock(last: true)
        default:
            break
        }
    }

    /// Whether a `/` here starts a regular expression (an operand is expected).
    private func regexAllowed() -> Bool {
        guard let last = lastSignificant else { return true }
        return Array("(,=:[!&|?{};+-*%<>~^".utf8).contains(last)
    }

    /// The index after a regular expression literal starting at `i`, or nil when it does not close
    /// on this line within 4 KiB (then `/` is division).
    private func regexEnd(from i: Int) -> Int? {
        let n = bytes.count
        var j = i + 1
        var inClass = false
        while j < n, j - i < 4096 {
            switch bytes[j] {
            case 10: return nil
            case 92: j += 1
            case 91: inClass = true
            case 93: inClass = false
            case 47 where !inClass: return j + 1
            default: break
            }
            j += 1
        }
        return nil
    }

    /// Marks `count` bytes from `start` as code.
    private mutating func code(_ start: Int, _ count: Int) {
        lineHasCode = true
        lastCodeByte = bytes[start + count - 1]
        lastSignificant = lastCodeByte
    }

    /// A byte inside a literal: sets the line's content flag.
    private mutating func markText(_ b: UInt8, _ literal: Literal) {
        guard !Self.isSpace(b) else { return }
        if literal.docstring { lineHasDoc = true } else { lineHasCode = true }
    }

    /// Records the role of `count` bytes from `start` (clipped to the text).
    private mutating func mark(_ start: Int, _ count: Int, _ role: ByteRole) {
        guard recordRoles, role != .code else { return }
        let end = min(bytes.count, start + count)
        var k = start
        while k < end { roles[k] = role; k += 1 }
    }

    /// Whether `pattern` occurs at `i`.
    private func matches(_ pattern: [UInt8], at i: Int) -> Bool {
        guard i + pattern.count <= bytes.count else { return false }
        for (k, p) in pattern.enumerated() where bytes[i + k] != p { return false }
        return true
    }

    /// Space, tab, CR, form feed, vertical tab.
    static func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 13 || b == 12 || b == 11 }
    /// ASCII letter.
    static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 }
    /// ASCII letter, digit, `_` or `$`, or any non-ASCII byte.
    static func isIdentifier(_ b: UInt8) -> Bool { isLetter(b) || (b >= 48 && b <= 57) || b == 95 || b == 36 || b >= 0x80 }
    /// 0-9, a-f, A-F.
    static func isHexDigit(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || ((b | 0x20) >= 97 && (b | 0x20) <= 102) }
    /// r, b, u, f in either case.
    static func isPythonPrefix(_ b: UInt8) -> Bool { [114, 98, 117, 102].contains(b | 0x20) }
    /// Whether a shell `#` after byte `b` starts a word (and so a comment).
    static func startsShellWord(after b: UInt8) -> Bool { isSpace(b) || b == 10 || b == 59 || b == 124 || b == 38 || b == 40 || b == 41 }
    /// The length of the UTF-8 sequence that starts with `lead` (1 for stray continuation bytes).
    static func scalarLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }
}
