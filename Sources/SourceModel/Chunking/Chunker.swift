/// Splits a source file into chunks for embedding.
///
/// For the languages in `Language.definitionAware`:
/// * every function or method that is not nested in another function is one chunk, from the comment
///   block above it (if any) to its last line; nested functions stay in their parent's chunk;
/// * a type (class, struct, impl, …) that is small — at most `windowLines / 2` lines and within the
///   token budget — stays one chunk with its methods; a larger one is split into its members, and its
///   remaining lines (header, fields, attributes) become chunks named after the type;
/// * module-level code between definitions (imports, constants, statements) is grouped into chunks
///   without a symbol, in windows when long; lines holding only closing brackets join the chunk before.
///
/// Other languages are cut into overlapping windows of `windowLines` lines, `windowOverlap` shared.
/// Every chunk over `tokenBudget` word pieces is then split at line boundaries (preferring blank
/// lines, then dedent points) into parts that keep the symbol; only a single line that alone exceeds
/// the budget yields a chunk marked `truncated`. Every non-blank line belongs to at least one chunk.
public struct Chunker: Sendable {
    /// The most word pieces a chunk should have (the model reads 254 besides `[CLS]`/`[SEP]`).
    public let tokenBudget: Int
    /// Lines per window for files without definitions and for long module-level runs.
    public let windowLines: Int
    /// Lines shared by consecutive windows.
    public let windowOverlap: Int
    /// Counts the word pieces of a text.
    public let countTokens: @Sendable (Substring) -> Int

    /// Creates a chunker; `windowLines` is at least 1 and `windowOverlap` less than it.
    public init(tokenBudget: Int, windowLines: Int = 40, windowOverlap: Int = 10,
                countTokens: @escaping @Sendable (Substring) -> Int) {
        self.tokenBudget = max(1, tokenBudget)
        self.windowLines = max(1, windowLines)
        self.windowOverlap = min(max(0, windowOverlap), max(0, windowLines - 1))
        self.countTokens = countTokens
    }

    /// A span of lines that becomes one chunk or, when over budget, several parts.
    struct Unit {
        var first: Int
        var last: Int
        var symbol: String?
        var kind: DefinitionKind?
        var signature: String?
    }

    /// The chunks of `text` in source order; `language` nil or without a parser gives line windows.
    public func chunks(of text: String, language: Language?) -> [Chunk] {
        let source = SourceLines(text)
        guard source.lineCount > 0 else { return [] }
        var lineTokens = [Int](repeating: 0, count: source.lineCount + 1)
        for line in 1...source.lineCount where !source.isBlank(line) {
            lineTokens[line] = countTokens(Substring(source.line(line)))
        }
        var units: [Unit]
        if let language, Language.definitionAware.contains(language) {
            let definitions = DefinitionParser.definitions(in: source, language: language)
            units = definitionUnits(definitions, source: source, lineTokens: lineTokens)
        } else {
            units = windows(1, source.lineCount, source: source)
        }
        units.sort { ($0.first, $0.last) < ($1.first, $1.last) }
        var chunks: [Chunk] = []
        for unit in units { chunks.append(contentsOf: split(unit, source: source, lineTokens: lineTokens)) }
        return chunks
    }

    // MARK: Planning

    private func definitionUnits(_ definitions: [Definition], source: SourceLines, lineTokens: [Int]) -> [Unit] {
        let lineCount = source.lineCount
        // Children by parent (definitions are in source order; a parent contains its children).
        var children = [[Int]](repeating: [], count: definitions.count)
        var roots: [Int] = []
        var stack: [Int] = []
        for (index, definition) in definitions.enumerated() {
            while let top = stack.last,
                  definitions[top].depth >= definition.depth || definitions[top].endLine < definition.startLine {
                stack.removeLast()
            }
            if let top = stack.last { children[top].append(index) } else { roots.append(index) }
            stack.append(index)
        }
        var units: [Unit] = []
        func plan(_ index: Int) {
            let definition = definitions[index]
            let first = max(1, min(definition.commentStartLine ?? definition.startLine, lineCount))
            let last = max(first, min(definition.endLine, lineCount))
            let whole = Unit(first: first, last: last, symbol: definition.qualifiedName, kind: definition.kind,
                             signature: definition.signature)
            if definition.kind.isCallable || children[index].isEmpty {
                units.append(whole)
                return
            }
            let tokens = lineTokens[first...last].reduce(0, +)
            if last - first + 1 <= max(1, windowLines / 2) && tokens <= tokenBudget {
                units.append(whole)
                return
            }
            let before = units.count
            for child in children[index] { plan(child) }
            var covered = [Bool](repeating: false, count: last - first + 1)
            for unit in units[before...] {
                for line in max(first, unit.first)...max(max(first, unit.first), min(last, unit.last))
                where line <= min(last, unit.last) {
                    covered[line - first] = true
                }
            }
            var line = first
            while line <= last {
                guard !covered[line - first] else { line += 1; continue }
                var end = line
                while end + 1 <= last, !covered[end + 1 - first] { end += 1 }
                if isClosingOnly(line, end, source: source),
                   let member = units.indices.dropFirst(before).filter({ units[$0].last < line })
                       .max(by: { units[$0].last < units[$1].last }) {
                    units[member].last = end
                    line = end + 1
                    continue
                }
                for window in windows(line, end, source: source) {
                    units.append(Unit(first: window.first, last: window.last, symbol: definition.qualifiedName,
                                      kind: definition.kind, signature: definition.signature))
                }
                line = end + 1
            }
        }
        for root in roots { plan(root) }

        // Module-level code: every run of lines that no unit covers.
        var covered = [Bool](repeating: false, count: lineCount + 2)
        for unit in units where unit.first <= unit.last {
            for line in unit.first...unit.last { covered[line] = true }
        }
        units.sort { ($0.first, $0.last) < ($1.first, $1.last) }
        var result: [Unit] = []
        var cursor = 0
        var line = 1
        func flushUnitsBefore(_ limit: Int) {
            while cursor < units.count, units[cursor].first < limit {
                result.append(units[cursor])
                cursor += 1
            }
        }
        while line <= lineCount {
            guard !covered[line] else { line += 1; continue }
            var end = line
            while end + 1 <= lineCount, !covered[end + 1] { end += 1 }
            flushUnitsBefore(line)
            if isClosingOnly(line, end, source: source), let previous = result.indices.last {
                result[previous].last = max(result[previous].last, end)
            } else {
                result.append(contentsOf: windows(line, end, source: source))
            }
            line = end + 1
        }
        flushUnitsBefore(Int.max)
        return result
    }

    /// Whether the non-blank lines of `first...last` hold only closing brackets and `;`/`,`.
    private func isClosingOnly(_ first: Int, _ last: Int, source: SourceLines) -> Bool {
        var sawCloser = false
        for line in first...last {
            var index = source.lineStarts[line - 1]
            while index < source.lineEnds[line - 1] {
                switch source.bytes[index] {
                case 32, 9, 12:
                    index += 1
                case UInt8(ascii: "}"), UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: ";"), UInt8(ascii: ","):
                    sawCloser = true
                    index += 1
                default:
                    return false
                }
            }
        }
        return sawCloser
    }

    /// Overlapping windows over `first...last` with blank lines trimmed at both ends; none if all blank.
    func windows(_ first: Int, _ last: Int, source: SourceLines) -> [Unit] {
        var first = first
        var last = last
        while first <= last && source.isBlank(first) { first += 1 }
        while last >= first && source.isBlank(last) { last -= 1 }
        guard first <= last else { return [] }
        var result: [Unit] = []
        var start = first
        while true {
            let end = min(start + windowLines - 1, last)
            var trimmedStart = start
            while trimmedStart < end && source.isBlank(trimmedStart) { trimmedStart += 1 }
            var trimmedEnd = end
            while trimmedEnd > trimmedStart && source.isBlank(trimmedEnd) { trimmedEnd -= 1 }
            if !source.isBlank(trimmedStart) {
                result.append(Unit(first: trimmedStart, last: trimmedEnd))
            }
            if end >= last { break }
            start = max(start + 1, end - windowOverlap + 1)
        }
        return result
    }

    // MARK: Budget

    /// The unit as one chunk, or as parts of at most `tokenBudget` word pieces each.
    private func split(_ unit: Unit, source: SourceLines, lineTokens: [Int]) -> [Chunk] {
        var ranges: [ClosedRange<Int>] = []
        let total = lineTokens[unit.first...unit.last].reduce(0, +)
        if total <= tokenBudget {
            ranges = [unit.first...unit.last]
        } else {
            var start = unit.first
            while start <= unit.last {
                while start < unit.last && source.isBlank(start) { start += 1 }
                var sum = 0
                var end = start
                while end <= unit.last && sum + lineTokens[end] <= tokenBudget {
                    sum += lineTokens[end]
                    end += 1
                }
                if end == start {  // one line alone is over budget
                    ranges.append(start...start)
                    start += 1
                    continue
                }
                if end > unit.last {
                    ranges.append(start...unit.last)
                    break
                }
                let cut = splitPoint(start, end, source: source)
                ranges.append(start...(cut - 1))
                start = cut
            }
        }
        var chunks: [Chunk] = []
        for range in ranges {
            var first = range.lowerBound
            var last = range.upperBound
            while first < last && source.isBlank(first) { first += 1 }
            while last > first && source.isBlank(last) { last -= 1 }
            if first == last && source.isBlank(first) && ranges.count > 1 { continue }
            let text = source.text(lines: first, last)
            // Word pieces never span a newline (it is whitespace to the tokenizer), so a chunk's count is the sum
            // of its lines' counts: no second tokenization of the text (it was 40 % of a cold run's reading).
            let count = lineTokens[first...last].reduce(0, +)
            chunks.append(Chunk(startLine: first, endLine: last, symbol: unit.symbol, kind: unit.kind,
                                signature: unit.signature, text: text, tokenCount: count,
                                truncated: count > tokenBudget))
        }
        for index in chunks.indices {
            chunks[index].part = index + 1
            chunks[index].partCount = chunks.count
        }
        return chunks
    }

    /// Where to end a part that fits in `start..<end` (line `end` would not fit): the last blank line in
    /// its second half, else the least indented line there (a dedent point), else `end`.
    private func splitPoint(_ start: Int, _ end: Int, source: SourceLines) -> Int {
        let lowest = start + max(1, (end - start) / 2)
        guard lowest < end else { return end }
        var candidate = end - 1
        while candidate >= lowest {
            if source.isBlank(candidate) { return candidate }
            candidate -= 1
        }
        var best = end
        var bestIndent = source.isBlank(end) ? Int.max : source.indentation(end)
        candidate = end - 1
        while candidate >= lowest {
            let indent = source.indentation(candidate)
            if indent < bestIndent {
                best = candidate
                bestIndent = indent
            }
            candidate -= 1
        }
        return best
    }
}
