/// A word, string literal or punctuation byte of code (comments skipped), for the import scanners.
struct ImportToken {
    /// What the token is.
    enum Kind { case word, string, punct }
    /// Its kind.
    var kind: Kind
    /// Its text: the word, the literal with its quotes, or the one punctuation character.
    var text: String
    /// The 1-based line it is on.
    var line: Int
    /// Whether it is the first token of its line.
    var firstOnLine: Bool

    /// Whether this is the word `w`.
    func isWord(_ w: String) -> Bool { kind == .word && text == w }
    /// Whether this is the punctuation `p`.
    func isPunct(_ p: String) -> Bool { kind == .punct && text == p }

    /// A string literal's content between its first quote and the matching one (prefixes dropped).
    var literalContent: String {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(where: { $0 == 34 || $0 == 39 || $0 == 96 }) else { return text }
        var end = open + 1
        while end < bytes.count && bytes[end] != bytes[open] { end += 1 }
        return String(decoding: bytes[(open + 1)..<end], as: UTF8.self)
    }

    /// The tokens of `bytes`, using the scanner's byte roles to skip comments and group literals.
    static func tokenize(_ bytes: [UInt8], roles: [ByteRole]) -> [ImportToken] {
        var tokens: [ImportToken] = []
        var line = 1
        var first = true
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b == 10 { line += 1; first = true; i += 1; continue }
            if roles[i] == .comment || SourceScanner.isSpace(b) { i += 1; continue }
            var j = i + 1
            let kind: Kind
            if roles[i] == .string {
                while j < n && roles[j] == .string && bytes[j] != 10 { j += 1 }
                kind = .string
            } else if SourceScanner.isIdentifier(b) {
                while j < n && roles[j] == .code && SourceScanner.isIdentifier(bytes[j]) { j += 1 }
                kind = .word
            } else {
                kind = .punct
            }
            tokens.append(ImportToken(kind: kind, text: String(decoding: bytes[i..<j], as: UTF8.self), line: line, firstOnLine: first))
            first = false
            i = j
        }
        return tokens
    }
}
