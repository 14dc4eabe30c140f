/// The words of code as a lexical index sees them: identifiers kept whole *and* split at
/// camelCase, snake_case and digit boundaries, lower-cased.
///
/// `parseHTTPRequest2` → `parsehttprequest2 parse http request 2`; `get_current_context` →
/// `get_current_context get current context`. The same function turns a query into terms, so a
/// search for "current context" finds `getCurrentContext` and a search for the whole name finds it too.
public enum SearchTerms {
    /// Terms of `text` in order, compound identifiers followed by their parts.
    public static func terms(of text: some StringProtocol) -> [String] {
        var result: [String] = []
        var word: [Unicode.Scalar] = []
        func flush() {
            defer { word.removeAll(keepingCapacity: true) }
            guard !word.isEmpty else { return }
            let parts = split(word)
            let whole = String(String.UnicodeScalarView(word)).lowercased()
            let trimmed = whole.trimmingUnderscores()
            if !trimmed.isEmpty, parts.count != 1 || parts.first != trimmed { result.append(trimmed) }
            result.append(contentsOf: parts)
        }
        for scalar in text.unicodeScalars {
            if scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                word.append(scalar)
            } else {
                flush()
            }
        }
        flush()
        return result
    }

    /// The text stored in the lexical index for `text`: its terms joined by spaces.
    public static func indexedText(_ text: some StringProtocol) -> String {
        terms(of: text).joined(separator: " ")
    }

    /// An FTS5 query matching any of the query's terms (stop words dropped unless nothing else is
    /// left), each quoted so that no FTS5 syntax in user input is interpreted; nil when the query has no terms.
    public static func matchExpression(for query: String) -> String? {
        var seen = Set<String>()
        let all = terms(of: query).filter { seen.insert($0).inserted }
        let content = all.filter { !stopWords.contains($0) }
        let chosen = content.isEmpty ? all : content
        guard !chosen.isEmpty else { return nil }
        return chosen.map { "\"\($0)\"" }.joined(separator: " OR ")
    }

    /// Parts of one identifier: split at `_`, lower→upper, acronym→word (`HTTPServer` → http, server),
    /// letter↔digit boundaries; lower-cased; empty parts dropped.
    public static func split(_ scalars: [Unicode.Scalar]) -> [String] {
        var parts: [String] = []
        var current = String.UnicodeScalarView()
        func end() {
            if !current.isEmpty { parts.append(String(current).lowercased()) }
            current = String.UnicodeScalarView()
        }
        for (i, s) in scalars.enumerated() {
            if s == "_" { end(); continue }
            if let previous = current.last {
                let p = previous.properties, c = s.properties
                let digitBoundary = (p.numericType != nil) != (c.numericType != nil)
                let lowerToUpper = p.isLowercase && c.isUppercase
                let acronymEnd = p.isUppercase && c.isUppercase && i + 1 < scalars.count && scalars[i + 1].properties.isLowercase
                if digitBoundary || lowerToUpper || acronymEnd { end() }
            }
            current.append(s)
        }
        end()
        return parts
    }

    /// Words too common in English to rank by: dropped from queries, kept in the index.
    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "if", "in", "into",
        "is", "it", "its", "of", "on", "or", "that", "the", "their", "then", "there", "these", "this",
        "to", "was", "were", "when", "which", "will", "with", "whether", "does", "do", "can", "should",
        "all", "any", "each", "but", "not", "so", "than", "such", "other", "only", "also", "given",
    ]
}

extension String {
    fileprivate func trimmingUnderscores() -> String {
        var s = Substring(self)
        while s.first == "_" { s.removeFirst() }
        while s.last == "_" { s.removeLast() }
        return String(s)
    }
}
