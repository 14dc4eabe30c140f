/// Per-scalar text normalisation and pre-tokenisation of the reference BERT tokenizer
/// (HF `tokenizers` BertNormalizer with clean_text, handle_chinese_chars, strip_accents and
/// lowercase, followed by BertPreTokenizer).
///
/// Every decision is made per Unicode scalar (never per Swift `Character`), from tables
/// generated from the reference implementation (`Scripts/gen_unicode_tables.py`), so that the
/// reference's own Unicode versions and quirks are reproduced exactly (for instance its CJK
/// range 0x2B920–0x2CEAF, private-use scalars removed, unassigned scalars kept).
struct BertNormalizer: Sendable {
    /// What the normaliser does with one input scalar.
    enum Action: Equatable {
        /// Kept as is (already lower-case and accent-free).
        case keep
        /// Dropped (NUL, U+FFFD, control/format/private-use scalars, non-spacing marks).
        case remove
        /// Whitespace: becomes a word boundary.
        case space
        /// A CJK ideograph: becomes a word of its own.
        case cjk
        /// A Hangul syllable: replaced by its conjoining jamo (NFD).
        case hangul
        /// Replaced by other scalars (lower-casing and/or NFD without marks).
        case mapped
    }

    // ASCII fast path: for each byte, its action (0 keep, 1 remove, 2 space) and its lowered byte.
    private let asciiAction: [UInt8]
    private let asciiLower: [UInt8]
    private let asciiPunct: [Bool]
    // Non-ASCII runs (sorted, disjoint) of non-keep actions.
    private let runStarts: [UInt32]
    private let runEnds: [UInt32]
    private let runCodes: [UInt8]
    private let mappings: [UInt32: [Unicode.Scalar]]
    private let punctStarts: [UInt32]
    private let punctEnds: [UInt32]

    /// Builds the tables from the generated `UnicodeTables` strings.
    init() {
        var starts: [UInt32] = [], ends: [UInt32] = [], codes: [UInt8] = []
        for item in UnicodeTables.normalizationRuns.split(separator: ";") {
            let parts = item.split(separator: ":")
            let range = parts[0].split(separator: "-")
            starts.append(UInt32(range[0], radix: 16)!)
            ends.append(UInt32(range[1], radix: 16)!)
            codes.append(UInt8(parts[1])!)
        }
        var maps: [UInt32: [Unicode.Scalar]] = [:]
        for item in UnicodeTables.mappings.split(separator: ";") {
            let parts = item.split(separator: "=")
            let out = parts[1].split(separator: " ").map { Unicode.Scalar(UInt32($0, radix: 16)!)! }
            maps[UInt32(parts[0], radix: 16)!] = out
        }
        var pStarts: [UInt32] = [], pEnds: [UInt32] = []
        for item in UnicodeTables.punctuationRuns.split(separator: ";") {
            let range = item.split(separator: "-")
            pStarts.append(UInt32(range[0], radix: 16)!)
            pEnds.append(UInt32(range[1], radix: 16)!)
        }
        runStarts = starts; runEnds = ends; runCodes = codes; mappings = maps
        punctStarts = pStarts; punctEnds = pEnds

        var action = [UInt8](repeating: 0, count: 128)
        var lower = [UInt8](repeating: 0, count: 128)
        var punct = [Bool](repeating: false, count: 128)
        for b in 0..<128 {
            lower[b] = (b >= 65 && b <= 90) ? UInt8(b + 32) : UInt8(b)
            if let i = Self.runIndex(UInt32(b), starts, ends) { action[b] = codes[i] }
            punct[b] = Self.runIndex(UInt32(b), pStarts, pEnds) != nil
        }
        action[0x20] = 2  // the space maps to itself in the tables but splits words
        asciiAction = action; asciiLower = lower; asciiPunct = punct
    }

    /// Index of the run containing `v`, by binary search.
    private static func runIndex(_ v: UInt32, _ starts: [UInt32], _ ends: [UInt32]) -> Int? {
        var lo = 0, hi = starts.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if starts[mid] <= v { lo = mid + 1 } else { hi = mid }
        }
        let i = lo - 1
        return (i >= 0 && v <= ends[i]) ? i : nil
    }

    /// The normaliser's action for one scalar.
    func action(_ s: Unicode.Scalar) -> Action {
        let v = s.value
        if v < 128 {
            switch asciiAction[Int(v)] {
            case 1: return .remove
            case 2: return .space
            default: return asciiLower[Int(v)] == UInt8(v) ? .keep : .mapped
            }
        }
        if mappings[v] != nil { return .mapped }
        guard let i = Self.runIndex(v, runStarts, runEnds) else { return .keep }
        switch runCodes[i] {
        case 1: return .remove
        case 2: return .space
        case 3: return .cjk
        case 5: return .hangul
        default: return .keep
        }
    }

    /// Whether BertPreTokenizer isolates `s` as a punctuation word.
    @inline(__always)
    func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 128 { return asciiPunct[Int(v)] }
        return Self.runIndex(v, punctStarts, punctEnds) != nil
    }

    /// Splits `text` into normalised words (arrays of scalars) and calls `body` for each, in
    /// order, until `body` returns `false`.
    func forEachWord(in text: String, _ body: (ArraySlice<Unicode.Scalar>) -> Bool) {
        var word: [Unicode.Scalar] = []
        word.reserveCapacity(64)
        var stopped = false

        // Emits the current word (if any).
        func flush() {
            if !word.isEmpty && !stopped {
                if !body(word[...]) { stopped = true }
            }
            word.removeAll(keepingCapacity: true)
        }
        // Appends one normalised scalar, splitting on whitespace and punctuation, and keeping
        // runs of combining marks in canonical order (NFD's canonical reordering).
        func push(_ s: Unicode.Scalar) {
            if s == " " { flush(); return }
            if isPunctuation(s) { flush(); word.append(s); flush(); return }
            if s.value >= 0x300 {
                let ccc = s.properties.canonicalCombiningClass.rawValue
                if ccc != 0 {
                    var i = word.count
                    while i > 0 {
                        let prev = word[i - 1]
                        let pc = prev.value >= 0x300 ? prev.properties.canonicalCombiningClass.rawValue : 0
                        if pc <= ccc { break }
                        i -= 1
                    }
                    word.insert(s, at: i)
                    return
                }
            }
            word.append(s)
        }

        for s in text.unicodeScalars {
            if stopped { return }
            let v = s.value
            if v < 128 {
                switch asciiAction[Int(v)] {
                case 1: continue
                case 2: flush()
                default:
                    let b = asciiLower[Int(v)]
                    if asciiPunct[Int(b)] { flush(); word.append(Unicode.Scalar(b)); flush() }
                    else { word.append(Unicode.Scalar(b)) }
                }
                continue
            }
            if let out = mappings[v] {
                for o in out { push(o) }
                continue
            }
            guard let i = Self.runIndex(v, runStarts, runEnds) else { push(s); continue }
            switch runCodes[i] {
            case 1: continue
            case 2: flush()
            case 3: flush(); word.append(s); flush()
            case 5:
                let sIndex = v - 0xAC00
                push(Unicode.Scalar(0x1100 + sIndex / 588)!)
                push(Unicode.Scalar(0x1161 + (sIndex % 588) / 28)!)
                if sIndex % 28 != 0 { push(Unicode.Scalar(0x11A7 + sIndex % 28)!) }
            default: push(s)
            }
        }
        flush()
    }
}
