/// The lexical rules of one brace language that the scanner needs.
struct BraceDialect: Sendable {
    let language: Language
    /// Block comments nest (Swift, Rust).
    let nestedComments: Bool
    /// `'…'` is a string (JavaScript, TypeScript).
    let singleQuoteStrings: Bool
    /// `'x'` is a character literal or rune (C, C++, Java, Go).
    let charLiterals: Bool

    init?(_ language: Language) {
        switch language {
        case .swift, .go, .rust, .javascript, .typescript, .java, .c, .cpp: self.language = language
        default: return nil
        }
        nestedComments = language == .swift || language == .rust
        singleQuoteStrings = language == .javascript || language == .typescript
        charLiterals = language == .c || language == .cpp || language == .java || language == .go
    }

    var isJavaScript: Bool { language == .javascript || language == .typescript }
    var isCLike: Bool { language == .c || language == .cpp }
}

/// A token of cleaned code: an identifier/number (`kind == 0`), a two-byte operator (`::` = 1,
/// `=>` = 2, `->` = 3), or a single punctuation byte (`kind` is the byte).
struct Token {
    var start: Int
    var end: Int
    var line: Int
    var kind: UInt8

    static let identifier: UInt8 = 0
    static let scope: UInt8 = 1
    static let fatArrow: UInt8 = 2
    static let arrow: UInt8 = 3
}

/// The code of a brace-language file with strings, characters and comments blanked out, and its tokens.
///
/// Blanked bytes become spaces (newlines stay, so offsets and lines are unchanged); a string keeps one
/// `"` at its start so that it remains a token. Every skip is bounded: an unterminated string or
/// comment runs to the end of its line (one-line kinds) or of the file (multi-line kinds).
struct CleanedCode {
    /// The cleaned bytes, as long as the source.
    var code: [UInt8]
    /// 1-based line → the line holds a comment (index 0 unused).
    var commentLines: [Bool]
    /// The tokens of `code`, in order.
    var tokens: [Token] = []

    init(source: SourceLines, dialect: BraceDialect) {
        var scanner = Scanner(bytes: source.bytes, dialect: dialect, lineCount: source.lineCount)
        scanner.run()
        code = scanner.out
        commentLines = scanner.commentLines
        tokens = Self.tokenize(code)
    }

    /// Whether 1-based `line` holds only a comment (no code after cleaning) in `source`.
    func isCommentOnly(_ line: Int, in source: SourceLines) -> Bool {
        guard line >= 1, line < commentLines.count, commentLines[line] else { return false }
        var index = source.lineStarts[line - 1]
        let end = source.lineEnds[line - 1]
        while index < end {
            if !Bytes.isSpace(code[index]) { return false }
            index += 1
        }
        return true
    }

    static func tokenize(_ code: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(code.count / 4)
        var line = 1
        var index = 0
        let count = code.count
        code.withUnsafeBufferPointer { bytes in
            while index < count {
                let byte = bytes[index]
                if byte == 10 { line += 1; index += 1; continue }
                if Bytes.isSpace(byte) { index += 1; continue }
                if Bytes.isIdentifier(byte) {
                    let start = index
                    while index < count, Bytes.isIdentifier(bytes[index]) { index += 1 }
                    tokens.append(Token(start: start, end: index, line: line, kind: Token.identifier))
                    continue
                }
                if index + 1 < count {
                    let next = bytes[index + 1]
                    var kind: UInt8 = 0
                    if byte == UInt8(ascii: ":") && next == UInt8(ascii: ":") { kind = Token.scope }
                    else if byte == UInt8(ascii: "=") && next == UInt8(ascii: ">") { kind = Token.fatArrow }
                    else if byte == UInt8(ascii: "-") && next == UInt8(ascii: ">") { kind = Token.arrow }
                    if kind != 0 {
                        tokens.append(Token(start: index, end: index + 2, line: line, kind: kind))
                        index += 2
                        continue
                    }
                }
                tokens.append(Token(start: index, end: index + 1, line: line, kind: byte))
                index += 1
            }
        }
        return tokens
    }
}

/// The blanking pass of `CleanedCode`.
private struct Scanner {
    let bytes: [UInt8]
    let dialect: BraceDialect
    var out: [UInt8]
    var commentLines: [Bool]
    var line = 1
    /// The last non-blank code byte before the cursor (for telling a JavaScript regex from a division).
    var lastCode: UInt8 = 0
    /// Maximum nesting of interpolations and templates followed; deeper ones are skipped flat.
    static let maxNesting = 32

    init(bytes: [UInt8], dialect: BraceDialect, lineCount: Int) {
        self.bytes = bytes
        self.dialect = dialect
        out = bytes
        commentLines = Array(repeating: false, count: lineCount + 2)
    }

    private func at(_ index: Int) -> UInt8 { index < bytes.count ? bytes[index] : 0 }

    mutating func run() {
        let count = bytes.count
        var index = 0
        var atLineStart = true
        while index < count {
            let byte = bytes[index]
            if byte == 10 {
                line += 1
                index += 1
                atLineStart = true
                continue
            }
            if byte == 32 || byte == 9 || byte == 13 || byte == 12 { index += 1; continue }
            let lineStart = atLineStart
            atLineStart = false
            let next = at(index + 1)
            if byte == UInt8(ascii: "/") && next == UInt8(ascii: "/") {
                index = blank(index, lineEnd(from: index), comment: true)
                continue
            }
            if byte == UInt8(ascii: "/") && next == UInt8(ascii: "*") {
                index = blank(index, blockCommentEnd(from: index), comment: true)
                continue
            }
            if lineStart && byte == UInt8(ascii: "#") && dialect.isCLike {
                index = blank(index, preprocessorEnd(from: index), comment: false)
                continue
            }
            if let end = literalEnd(at: index, depth: 0) {
                index = blankString(index, end)
                lastCode = UInt8(ascii: "\"")
                continue
            }
            lastCode = byte
            if Bytes.isIdentifier(byte) {
                while index < count, Bytes.isIdentifier(bytes[index]) { index += 1 }
                continue
            }
            index += 1
        }
    }

    /// The end of a string, character or regex literal starting at `index`, or nil when none starts there.
    private func literalEnd(at index: Int, depth: Int) -> Int? {
        let byte = bytes[index]
        let previous = index > 0 ? bytes[index - 1] : 0
        switch dialect.language {
        case .swift:
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "#") { return swiftStringEnd(index, depth: depth) }
        case .go:
            if byte == UInt8(ascii: "`") { return closingByte(UInt8(ascii: "`"), from: index + 1, escapes: false, multiline: true) }
        case .rust:
            if (byte == UInt8(ascii: "r") || byte == UInt8(ascii: "b")) && !Bytes.isIdentifier(previous) {
                if let end = rustRawStringEnd(index) { return end }
            }
            if byte == UInt8(ascii: "'") { return rustCharEnd(index) }
        case .javascript, .typescript:
            if byte == UInt8(ascii: "`") { return templateEnd(index, depth: depth) }
            if byte == UInt8(ascii: "/") && regexMayStart() {
                return regexEnd(index)
            }
        case .java:
            if byte == UInt8(ascii: "\"") && at(index + 1) == byte && at(index + 2) == byte {
                return tripleQuoteEnd(index)
            }
        case .cpp:
            if byte == UInt8(ascii: "R") && at(index + 1) == UInt8(ascii: "\"") {
                if let end = cppRawStringEnd(index) { return end }
            }
        default:
            break
        }
        if byte == UInt8(ascii: "\"") { return closingByte(byte, from: index + 1, escapes: true, multiline: false) }
        if byte == UInt8(ascii: "'") {
            if dialect.singleQuoteStrings { return closingByte(byte, from: index + 1, escapes: true, multiline: false) }
            if dialect.charLiterals {
                if dialect.language == .cpp && (previous >= 48 && previous <= 57 || Bytes.isIdentifier(previous)) {
                    return nil  // 1'000'000
                }
                return closingByte(byte, from: index + 1, escapes: true, multiline: false)
            }
        }
        return nil
    }

    private func lineEnd(from index: Int) -> Int {
        var end = index
        while end < bytes.count, bytes[end] != 10 { end += 1 }
        return end
    }

    /// After the closing `byte` (unescaped); an unterminated one-line literal ends at its line's end.
    private func closingByte(_ byte: UInt8, from start: Int, escapes: Bool, multiline: Bool) -> Int {
        var index = start
        while index < bytes.count {
            let current = bytes[index]
            if escapes && current == 92 { index += 2; continue }
            if current == byte { return index + 1 }
            if current == 10 && !multiline { return index }
            index += 1
        }
        return bytes.count
    }

    private func blockCommentEnd(from start: Int) -> Int {
        var index = start + 2
        var depth = 1
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/") {
                depth -= 1
                index += 2
                if depth == 0 { return index }
                continue
            }
            if dialect.nestedComments && bytes[index] == UInt8(ascii: "/") && bytes[index + 1] == UInt8(ascii: "*") {
                depth += 1
                index += 2
                continue
            }
            index += 1
        }
        return bytes.count
    }

    private func preprocessorEnd(from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            if bytes[index] == 10 {
                var back = index - 1
                if back >= 0 && bytes[back] == 13 { back -= 1 }
                if back >= 0 && bytes[back] == 92 { index += 1; continue }
                return index
            }
            index += 1
        }
        return bytes.count
    }

    private func tripleQuoteEnd(_ start: Int) -> Int {
        var index = start + 3
        while index + 2 < bytes.count {
            if bytes[index] == 92 { index += 2; continue }
            if bytes[index] == 34 && bytes[index + 1] == 34 && bytes[index + 2] == 34 { return index + 3 }
            index += 1
        }
        return bytes.count
    }

    /// Swift `"…"`, `"""…"""`, `#"…"#` with `\(…)` interpolations (which may hold strings).
    private func swiftStringEnd(_ start: Int, depth: Int) -> Int? {
        var hashes = 0
        var quote = start
        while at(quote) == UInt8(ascii: "#") { hashes += 1; quote += 1 }
        guard at(quote) == UInt8(ascii: "\"") else { return nil }
        let multiline = at(quote + 1) == 34 && at(quote + 2) == 34
        var index = quote + (multiline ? 3 : 1)
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 92 {
                var cursor = index + 1
                var seen = 0
                while seen < hashes && at(cursor) == UInt8(ascii: "#") { seen += 1; cursor += 1 }
                if seen == hashes {
                    if at(cursor) == UInt8(ascii: "(") && depth < Self.maxNesting {
                        index = interpolationEnd(cursor + 1, depth: depth + 1)
                    } else {
                        index = cursor + 1
                    }
                    continue
                }
                index += 1
                continue
            }
            if byte == 34 {
                let closeCount = multiline ? 3 : 1
                var matches = true
                for offset in 0..<closeCount where at(index + offset) != 34 { matches = false }
                if matches {
                    var cursor = index + closeCount
                    var seen = 0
                    while seen < hashes && at(cursor) == UInt8(ascii: "#") { seen += 1; cursor += 1 }
                    if seen == hashes { return cursor }
                }
            }
            if byte == 10 && !multiline { return index }
            index += 1
        }
        return bytes.count
    }

    /// After the `)` closing an interpolation whose contents start at `start`.
    private func interpolationEnd(_ start: Int, depth: Int) -> Int {
        var index = start
        var parens = 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "(") { parens += 1 }
            else if byte == UInt8(ascii: ")") {
                parens -= 1
                if parens == 0 { return index + 1 }
            } else if byte == 34 || byte == UInt8(ascii: "#") {
                if let end = swiftStringEnd(index, depth: depth), end > index { index = end; continue }
            }
            index += 1
        }
        return bytes.count
    }

    /// JavaScript template literal with `${…}` expressions (which may hold strings and templates).
    private func templateEnd(_ start: Int, depth: Int) -> Int {
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 92 { index += 2; continue }
            if byte == UInt8(ascii: "`") { return index + 1 }
            if byte == UInt8(ascii: "$") && at(index + 1) == UInt8(ascii: "{") && depth < Self.maxNesting {
                index = templateExpressionEnd(index + 2, depth: depth + 1)
                continue
            }
            index += 1
        }
        return bytes.count
    }

    private func templateExpressionEnd(_ start: Int, depth: Int) -> Int {
        var index = start
        var braces = 1
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"): braces += 1
            case UInt8(ascii: "}"):
                braces -= 1
                if braces == 0 { return index + 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                index = closingByte(byte, from: index + 1, escapes: true, multiline: false)
                continue
            case UInt8(ascii: "`"):
                index = templateEnd(index, depth: depth)
                continue
            default: break
            }
            index += 1
        }
        return bytes.count
    }

    /// Whether a `/` here starts a regex literal rather than a division (JavaScript heuristic).
    private func regexMayStart() -> Bool {
        switch lastCode {
        case 0, UInt8(ascii: "("), UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "["),
             UInt8(ascii: "!"), UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: "?"), UInt8(ascii: "{"),
             UInt8(ascii: "}"), UInt8(ascii: ";"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "*"),
             UInt8(ascii: "%"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "~"), UInt8(ascii: "^"):
            return true
        default:
            return false
        }
    }

    /// The end of a regex literal at `start`, or nil when the line has no closing `/` (then it is a division).
    private func regexEnd(_ start: Int) -> Int? {
        var index = start + 1
        var inClass = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 10 { return nil }
            if byte == 92 { index += 2; continue }
            if byte == UInt8(ascii: "[") { inClass = true }
            else if byte == UInt8(ascii: "]") { inClass = false }
            else if byte == UInt8(ascii: "/") && !inClass {
                index += 1
                while index < bytes.count, Bytes.isIdentifier(bytes[index]) { index += 1 }  // flags
                return index
            }
            index += 1
        }
        return nil
    }

    /// Rust `r"…"`, `r#"…"#`, `br"…"`; nil when `start` does not begin one.
    private func rustRawStringEnd(_ start: Int) -> Int? {
        var index = start
        if bytes[index] == UInt8(ascii: "b") { index += 1 }
        guard at(index) == UInt8(ascii: "r") else { return nil }
        index += 1
        var hashes = 0
        while at(index) == UInt8(ascii: "#") { hashes += 1; index += 1 }
        guard at(index) == 34 else { return nil }
        index += 1
        while index < bytes.count {
            if bytes[index] == 34 {
                var cursor = index + 1
                var seen = 0
                while seen < hashes && at(cursor) == UInt8(ascii: "#") { seen += 1; cursor += 1 }
                if seen == hashes { return cursor }
            }
            index += 1
        }
        return bytes.count
    }

    /// A Rust character literal (`'x'`, `'\n'`, `'\u{1F600}'`), or nil for a lifetime (`'a`).
    private func rustCharEnd(_ start: Int) -> Int? {
        if at(start + 1) == 92 {
            var index = start + 2
            while index < bytes.count && index < start + 14 {
                if bytes[index] == UInt8(ascii: "'") { return index + 1 }
                if bytes[index] == 10 { return nil }
                index += 1
            }
            return nil
        }
        // One scalar, then a quote.
        var index = start + 1
        guard index < bytes.count, bytes[index] != 10 else { return nil }
        index += 1
        while index < bytes.count, bytes[index] & 0xC0 == 0x80 { index += 1 }
        return at(index) == UInt8(ascii: "'") ? index + 1 : nil
    }

    /// C++ `R"delim(…)delim"`; nil when the delimiter is malformed.
    private func cppRawStringEnd(_ start: Int) -> Int? {
        var index = start + 2
        var delimiter: [UInt8] = []
        while index < bytes.count, bytes[index] != UInt8(ascii: "(") {
            let byte = bytes[index]
            if Bytes.isSpace(byte) || byte == 92 || byte == UInt8(ascii: ")") || delimiter.count >= 16 { return nil }
            delimiter.append(byte)
            index += 1
        }
        index += 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: ")") {
                var cursor = index + 1
                var matched = true
                for byte in delimiter {
                    if at(cursor) != byte { matched = false; break }
                    cursor += 1
                }
                if matched && at(cursor) == 34 { return cursor + 1 }
            }
            index += 1
        }
        return bytes.count
    }

    /// Blanks `start..<end` (keeping newlines), marking its lines as comment lines when `comment`.
    private mutating func blank(_ start: Int, _ end: Int, comment: Bool) -> Int {
        let end = min(max(end, start + 1), bytes.count)
        if comment { commentLines[line] = true }
        for index in start..<end {
            if bytes[index] == 10 {
                line += 1
                if comment { commentLines[line] = true }
            } else {
                out[index] = 32
            }
        }
        return end
    }

    /// Blanks a literal but keeps a `"` at its start.
    private mutating func blankString(_ start: Int, _ end: Int) -> Int {
        let end = blank(start, end, comment: false)
        out[start] = 34
        return end
    }
}
