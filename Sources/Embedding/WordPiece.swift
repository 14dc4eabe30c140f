/// Greedy longest-match-first WordPiece (as in HF `tokenizers` WordPiece): a word is split into
/// the longest vocabulary prefix, then the longest `##`-prefixed continuation, and so on; a word
/// with more than `maxInputCharsPerWord` Unicode scalars, or with a part that matches nothing,
/// becomes a single unknown token.
struct WordPiece: Sendable {
    /// A dictionary key that compares strings by their exact UTF-8 bytes. Swift's `String`
    /// equality and hashing use canonical equivalence (so a decomposed jamo sequence would
    /// equal a precomposed Hangul syllable), while the reference compares bytes.
    struct Key: Hashable, Sendable {
        /// The text.
        let text: String
        init(_ text: String) { self.text = text }
        static func == (a: Key, b: Key) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
        func hash(into hasher: inout Hasher) {
            let done: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            if done == nil { for b in text.utf8 { hasher.combine(b) } }
        }
    }

    /// Word-initial pieces: token text → id.
    let initial: [Key: Int32]
    /// Continuation pieces, stored without their `##` prefix: text → id.
    let continuation: [Key: Int32]
    /// Id of the unknown token (`[UNK]`).
    let unkID: Int32
    /// Longest word (in Unicode scalars) that is split at all.
    let maxInputCharsPerWord: Int
    /// Longest piece of each table, in Unicode scalars: the longest-match search starts there instead of at the
    /// word's end (no longer piece can match), which makes a long word linear instead of quadratic.
    let longestInitial: Int
    let longestContinuation: Int

    init(initial: [Key: Int32], continuation: [Key: Int32], unkID: Int32, maxInputCharsPerWord: Int) {
        self.initial = initial
        self.continuation = continuation
        self.unkID = unkID
        self.maxInputCharsPerWord = maxInputCharsPerWord
        longestInitial = initial.keys.map { $0.text.unicodeScalars.count }.max() ?? 0
        longestContinuation = continuation.keys.map { $0.text.unicodeScalars.count }.max() ?? 0
    }

    /// Appends the ids of `word` (normalised scalars) to `out`.
    func tokenize(_ word: ArraySlice<Unicode.Scalar>, into out: inout [Int32]) {
        if word.count > maxInputCharsPerWord { out.append(unkID); return }
        var text = String()
        text.unicodeScalars.append(contentsOf: word)
        if let id = initial[Key(text)] { out.append(id); return }

        let scalars = text.unicodeScalars
        let mark = out.count
        var start = scalars.startIndex
        var first = true
        while start < scalars.endIndex {
            let longest = first ? longestInitial : longestContinuation
            var end = scalars.index(start, offsetBy: longest, limitedBy: scalars.endIndex) ?? scalars.endIndex
            var found: Int32? = nil
            while start < end {
                let piece = String(String.UnicodeScalarView(scalars[start..<end]))
                if let id = first ? initial[Key(piece)] : continuation[Key(piece)] { found = id; break }
                end = scalars.index(before: end)
            }
            guard let id = found else {
                out.removeSubrange(mark...)
                out.append(unkID)
                return
            }
            out.append(id)
            first = false
            start = end
        }
    }
}
