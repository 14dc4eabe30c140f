/// Reads Python definitions by indentation over logical lines (bracket and backslash continuations,
/// strings, triple-quoted strings and comments are followed so that they never open or close a block).
struct PythonParser {
    let source: SourceLines

    /// One logical line: physical lines `first...last`, starting at byte `start` (first non-blank).
    struct LogicalLine {
        var first: Int
        var last: Int
        var start: Int
        var indent: Int
    }

    /// An open `def`/`class` waiting for its end.
    private struct Open {
        var definition: Definition
        var indent: Int
    }

    func parse() -> [Definition] {
        let logical = logicalLines()
        var result: [Definition] = []
        var stack: [Open] = []
        var decoratorStart: Int?
        var decoratorIndent = -1
        var previousEnd = 0

        for (position, line) in logical.enumerated() {
            while let top = stack.last, line.indent <= top.indent {
                var finished = stack.removeLast().definition
                finished.endLine = max(finished.headerLine, previousEnd)
                result.append(finished)
            }
            defer { previousEnd = line.last }
            let bytes = source.bytes
            let end = source.lineEnds[line.last - 1]
            if bytes[line.start] == UInt8(ascii: "@") {
                if decoratorStart == nil || decoratorIndent != line.indent {
                    decoratorStart = line.first
                    decoratorIndent = line.indent
                }
                continue
            }
            var cursor = line.start
            var kind: DefinitionKind?
            if matchWord("async", at: &cursor, end: end) { skipBlanks(&cursor, end: end) }
            if matchWord("def", at: &cursor, end: end) {
                kind = .function
            } else if cursor == line.start, matchWord("class", at: &cursor, end: end) {
                kind = .class
            }
            let decorated = decoratorIndent == line.indent ? decoratorStart : nil
            decoratorStart = nil
            decoratorIndent = -1
            guard var kind else { continue }
            skipBlanks(&cursor, end: end)
            let nameStart = cursor
            while cursor < end, Bytes.isIdentifier(bytes[cursor]) { cursor += 1 }
            guard cursor > nameStart else { continue }
            let name = String(decoding: bytes[nameStart..<cursor], as: UTF8.self)
            if kind == .function, let parent = stack.last?.definition, parent.kind == .class { kind = .method }

            let header = headerEnd(from: cursor, end: end)
            let signature = source.collapsed(line.start..<header.colon)
            var documented = false
            if let inline = header.inlineBody {
                documented = startsWithString(inline, end: end)
            } else if position + 1 < logical.count, logical[position + 1].indent > line.indent {
                documented = startsWithString(logical[position + 1].start, end: source.lineEnds[logical[position + 1].last - 1])
            }
            let startLine = decorated ?? line.first
            let qualified = (stack.map(\.definition.name) + [name]).joined(separator: ".")
            let definition = Definition(
                name: name, qualifiedName: qualified, kind: kind, startLine: startLine, headerLine: line.first,
                endLine: line.last, commentStartLine: commentBlockStart(above: startLine),
                hasDocumentation: documented, signature: signature, depth: stack.count,
                parameters: kind == .class ? [] : header.parameters)
            if header.inlineBody != nil {
                result.append(definition)
            } else {
                stack.append(Open(definition: definition, indent: line.indent))
            }
        }
        while var finished = stack.popLast()?.definition {
            finished.endLine = max(finished.headerLine, previousEnd)
            result.append(finished)
        }
        return result
    }

    // MARK: Logical lines

    /// The logical lines of the file, skipping blank and comment-only lines.
    func logicalLines() -> [LogicalLine] {
        let bytes = source.bytes
        var result: [LogicalLine] = []
        result.reserveCapacity(source.lineCount / 2)
        var depth = 0
        var quote: UInt8 = 0          // 0: not in a string
        var triple = false
        var continued = false
        var open: LogicalLine?
        for line in 1...max(source.lineCount, 1) where line <= source.lineCount {
            let end = source.lineEnds[line - 1]
            var index = source.lineStarts[line - 1]
            if open == nil {
                let first = source.firstNonBlank(line)
                if first == end || bytes[first] == UInt8(ascii: "#") { continue }
                open = LogicalLine(first: line, last: line, start: first, indent: source.indentation(line))
                index = first
            }
            continued = false
            while index < end {
                let byte = bytes[index]
                if quote != 0 {
                    if byte == 92 {  // backslash
                        if index + 1 >= end { continued = true }
                        index += 2
                        continue
                    }
                    if byte == quote {
                        if !triple { quote = 0 } else if index + 2 < end, bytes[index + 1] == quote, bytes[index + 2] == quote {
                            quote = 0
                            index += 2
                        }
                    }
                    index += 1
                    continue
                }
                switch byte {
                case UInt8(ascii: "#"):
                    index = end
                    continue
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    quote = byte
                    if index + 2 < end, bytes[index + 1] == byte, bytes[index + 2] == byte {
                        triple = true
                        index += 2
                    } else {
                        triple = false
                    }
                case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                    depth = max(0, depth - 1)
                case 92:
                    if index + 1 >= end { continued = true }
                default:
                    break
                }
                index += 1
            }
            if quote != 0 && !triple && !continued { quote = 0 }  // unterminated one-line string
            open?.last = line
            if depth == 0 && quote == 0 && !continued, let finished = open {
                result.append(finished)
                open = nil
            }
        }
        if let finished = open { result.append(finished) }
        return result
    }

    // MARK: Header pieces

    /// The colon ending a header that starts at `from`, the parameter names, and where an inline body starts.
    private func headerEnd(from: Int, end: Int) -> (colon: Int, parameters: [String], inlineBody: Int?) {
        let bytes = source.bytes
        var index = from
        var depth = 0
        var parameters: [String] = []
        var current: [UInt8] = []
        var sawParameters = false
        var colon = end
        // `end` is the end of the logical line's last physical line; scan the whole logical range.
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                index = skipString(index, end: end)
                if depth == 1 && !sawParameters { current.append(UInt8(ascii: "s")) }
                continue
            }
            if byte == UInt8(ascii: "#") {
                while index < end, bytes[index] != 10 { index += 1 }
                continue
            }
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > 1 && !sawParameters { current.append(byte) }
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 && !sawParameters {
                    sawParameters = true
                    if let name = Self.parameterName(current) { parameters.append(name) }
                } else if depth > 0 && !sawParameters {
                    current.append(byte)
                }
                depth = max(0, depth)
            case UInt8(ascii: ","):
                if depth == 1 && !sawParameters {
                    if let name = Self.parameterName(current) { parameters.append(name) }
                    current.removeAll(keepingCapacity: true)
                } else if depth > 1 && !sawParameters {
                    current.append(byte)
                }
            case UInt8(ascii: ":") where depth == 0:
                colon = index
                var body = index + 1
                while body < end, Bytes.isSpace(bytes[body]) || bytes[body] == 92 { body += 1 }
                let inline = body < end && bytes[body] != UInt8(ascii: "#") ? body : nil
                return (colon, parameters, inline)
            default:
                if depth >= 1 && !sawParameters { current.append(byte) }
            }
            index += 1
        }
        return (colon, parameters, nil)
    }

    /// A parameter's name from its text ("*args", "x: int = 0" → "args", "x"); nil for "*", "/" and blanks.
    static func parameterName(_ text: [UInt8]) -> String? {
        var index = 0
        while index < text.count, Bytes.isSpace(text[index]) || text[index] == UInt8(ascii: "*") { index += 1 }
        let start = index
        while index < text.count, Bytes.isIdentifier(text[index]) { index += 1 }
        guard index > start else { return nil }
        return String(decoding: text[start..<index], as: UTF8.self)
    }

    /// The offset after the string literal starting at `start` (a quote), or `end`.
    private func skipString(_ start: Int, end: Int) -> Int {
        let bytes = source.bytes
        let quote = bytes[start]
        if start + 2 < end, bytes[start + 1] == quote, bytes[start + 2] == quote {
            var index = start + 3
            while index + 2 < end {
                if bytes[index] == 92 { index += 2; continue }
                if bytes[index] == quote, bytes[index + 1] == quote, bytes[index + 2] == quote { return index + 3 }
                index += 1
            }
            return end
        }
        var index = start + 1
        while index < end {
            if bytes[index] == 92 { index += 2; continue }
            if bytes[index] == quote || bytes[index] == 10 { return index + 1 }
            index += 1
        }
        return end
    }

    /// Whether the code at `start` is a string literal (with an optional r/b/u/f prefix).
    private func startsWithString(_ start: Int, end: Int) -> Bool {
        var index = start
        var prefix = 0
        while index < end, prefix < 2, "rRbBuUfF".utf8.contains(source.bytes[index]) { index += 1; prefix += 1 }
        return index < end && (source.bytes[index] == UInt8(ascii: "\"") || source.bytes[index] == UInt8(ascii: "'"))
    }

    /// Matches keyword `word` followed by a blank at `cursor`, advancing past it.
    private func matchWord(_ word: StaticString, at cursor: inout Int, end: Int) -> Bool {
        let count = word.utf8CodeUnitCount
        guard cursor + count < end else { return false }
        let pointer = word.utf8Start
        for offset in 0..<count where source.bytes[cursor + offset] != pointer[offset] { return false }
        let next = source.bytes[cursor + count]
        guard next == 32 || next == 9 else { return false }
        cursor += count
        return true
    }

    private func skipBlanks(_ cursor: inout Int, end: Int) {
        while cursor < end, source.bytes[cursor] == 32 || source.bytes[cursor] == 9 { cursor += 1 }
    }

    /// The first line of the run of `#` comment lines directly above `line`, if any.
    private func commentBlockStart(above line: Int) -> Int? {
        var first: Int?
        var candidate = line - 1
        while candidate >= 1, source.lineHasPrefix(candidate, "#") {
            first = candidate
            candidate -= 1
        }
        return first
    }
}
