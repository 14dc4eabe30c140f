/// git's `wildmatch` (wildmatch.c) with `WM_PATHNAME`, over UTF-8 bytes: the glob matcher behind
/// `.gitignore`. `*`, `?` and `[...]` never match "/"; `**` matches across folders only as a whole
/// component (`**/x`, `x/**`, `x/**/y`), elsewhere it is a plain `*`. Matching is case-sensitive.
enum Wildmatch {
    /// The three outcomes of the recursive matcher; the two aborts let callers stop backtracking early.
    private enum Outcome: Equatable {
        case match
        case noMatch
        /// No match now, nor with any later start of the text: stop every enclosing `*`.
        case abortAll
        /// A single `*` met a "/": only an enclosing `**` can try a later start.
        case abortToStarStar
    }

    /// Whether `pattern` matches all of `text`.
    static func matches(_ pattern: UnsafeBufferPointer<UInt8>, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        match(pattern, 0, text, 0) == .match
    }

    /// Whether `byte` has a meaning in a glob (`*`, `?`, `[`, `\`).
    @inline(__always)
    static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "*") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "\\")
    }

    private static let slash = UInt8(ascii: "/")

    /// The recursive core: `pattern[p...]` against `text[t...]`. Reading past either end yields 0,
    /// standing in for C's terminating NUL.
    private static func match(_ pattern: UnsafeBufferPointer<UInt8>, _ start: Int, _ text: UnsafeBufferPointer<UInt8>, _ textStart: Int) -> Outcome {
        @inline(__always) func pat(_ i: Int) -> UInt8 { i < pattern.count ? pattern[i] : 0 }
        @inline(__always) func txt(_ i: Int) -> UInt8 { i < text.count ? text[i] : 0 }

        var p = start
        var t = textStart
        while p < pattern.count {
            var pc = pattern[p]
            var tc = txt(t)
            if tc == 0 && pc != UInt8(ascii: "*") { return .abortAll }
            switch pc {
            case UInt8(ascii: "?"):
                if tc == slash { return .noMatch }
            case UInt8(ascii: "*"):
                var matchSlash: Bool
                p += 1
                if pat(p) == UInt8(ascii: "*") {
                    let before = p - 2
                    p += 1
                    while pat(p) == UInt8(ascii: "*") { p += 1 }
                    let next = pat(p)
                    if (before < 0 || pattern[before] == slash)
                        && (next == 0 || next == slash || (next == UInt8(ascii: "\\") && pat(p + 1) == slash)) {
                        // "**/" may match no folder at all: try the rest right here first.
                        if next == slash && match(pattern, p + 1, text, t) == .match { return .match }
                        matchSlash = true
                    } else {
                        matchSlash = false
                    }
                } else {
                    matchSlash = false
                }
                if p >= pattern.count {
                    // A trailing "**" matches everything; a trailing "*" only what has no more "/".
                    if !matchSlash {
                        var i = t
                        while i < text.count { if text[i] == slash { return .noMatch }; i += 1 }
                    }
                    return .match
                } else if !matchSlash && pattern[p] == slash {
                    // One "*" followed by "/": skip to the next "/" of the text, which the loop then consumes.
                    var i = t
                    while i < text.count && text[i] != slash { i += 1 }
                    if i >= text.count { return .noMatch }
                    t = i
                    break
                }
                while true {
                    if tc == 0 { break }
                    // Followed by a literal: skip ahead to where that literal occurs.
                    let literal = pattern[p]
                    if !isSpecial(literal) {
                        while true {
                            tc = txt(t)
                            if tc == 0 || (!matchSlash && tc == slash) { break }
                            if tc == literal { break }
                            t += 1
                        }
                        // The literal is nowhere in the rest of this component: no later start of an
                        // enclosing "*" can find it either (it would search a suffix of the same text), so
                        // abort them instead of backtracking through every start (exponential in the
                        // number of stars: `a*a*a*a*a*a*b` against 60 a's took minutes; found by fuzzing).
                        if tc != literal { return tc == 0 ? .abortAll : .abortToStarStar }
                    }
                    let outcome = match(pattern, p, text, t)
                    if outcome != .noMatch {
                        if !matchSlash || outcome != .abortToStarStar { return outcome }
                    } else if !matchSlash && tc == slash {
                        return .abortToStarStar
                    }
                    t += 1
                    tc = txt(t)
                }
                return .abortAll
            case UInt8(ascii: "["):
                p += 1
                pc = pat(p)
                if pc == UInt8(ascii: "^") { pc = UInt8(ascii: "!") }
                let negated = pc == UInt8(ascii: "!")
                if negated {
                    p += 1
                    pc = pat(p)
                }
                var previous: UInt8 = 0
                var matched = false
                while true {
                    if pc == 0 { return .abortAll }
                    if pc == UInt8(ascii: "\\") {
                        p += 1
                        pc = pat(p)
                        if pc == 0 { return .abortAll }
                        if tc == pc { matched = true }
                    } else if pc == UInt8(ascii: "-") && previous != 0 && pat(p + 1) != 0 && pat(p + 1) != UInt8(ascii: "]") {
                        p += 1
                        pc = pat(p)
                        if pc == UInt8(ascii: "\\") {
                            p += 1
                            pc = pat(p)
                            if pc == 0 { return .abortAll }
                        }
                        if tc <= pc && tc >= previous { matched = true }
                        pc = 0  // so that `previous` becomes 0: no range may start at a range's end
                    } else if pc == UInt8(ascii: "[") && pat(p + 1) == UInt8(ascii: ":") {
                        let nameStart = p + 2
                        p = nameStart
                        while pat(p) != 0 && pat(p) != UInt8(ascii: "]") { p += 1 }
                        if pat(p) == 0 { return .abortAll }
                        let nameLength = p - nameStart - 1
                        if nameLength < 0 || pattern[p - 1] != UInt8(ascii: ":") {
                            // No ":]": an ordinary "[" in the set.
                            p = nameStart - 2
                            pc = UInt8(ascii: "[")
                            if tc == pc { matched = true }
                        } else {
                            let name = Array(pattern[nameStart..<(nameStart + nameLength)])
                            guard let inClass = characterClass(name, contains: tc) else { return .abortAll }
                            if inClass { matched = true }
                            pc = 0
                        }
                    } else if tc == pc {
                        matched = true
                    }
                    previous = pc
                    p += 1
                    pc = pat(p)
                    if pc == UInt8(ascii: "]") { break }
                }
                if matched == negated || tc == slash { return .noMatch }
            case UInt8(ascii: "\\"):
                p += 1
                pc = pat(p)
                if tc != pc { return .noMatch }
            default:
                if tc != pc { return .noMatch }
            }
            p += 1
            t += 1
        }
        return t < text.count ? .noMatch : .match
    }

    /// Whether `byte` is in the POSIX class `name` ("alpha", "digit", …); nil for an unknown class.
    private static func characterClass(_ name: [UInt8], contains byte: UInt8) -> Bool? {
        let isUpper = byte >= 0x41 && byte <= 0x5A
        let isLower = byte >= 0x61 && byte <= 0x7A
        let isDigit = byte >= 0x30 && byte <= 0x39
        switch String(decoding: name, as: UTF8.self) {
        case "alnum": return isUpper || isLower || isDigit
        case "alpha": return isUpper || isLower
        case "blank": return byte == 0x20 || byte == 0x09
        case "cntrl": return byte < 0x20 || byte == 0x7F
        case "digit": return isDigit
        case "graph": return byte > 0x20 && byte < 0x7F
        case "lower": return isLower
        case "print": return byte >= 0x20 && byte < 0x7F
        case "punct": return byte > 0x20 && byte < 0x7F && !(isUpper || isLower || isDigit)
        case "space": return byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
        case "upper": return isUpper
        case "xdigit": return isDigit || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
        default: return nil
        }
    }
}
