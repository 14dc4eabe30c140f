/// Source text as UTF-8 bytes with its line table; lines split on "\n", a trailing "\r" not part of a line.
struct SourceLines: Sendable {
    /// The whole text.
    let bytes: [UInt8]
    /// Byte offset of the first byte of each line; `lineStarts.count` is the number of lines.
    let lineStarts: [Int]
    /// Byte offset just past the last content byte of each line (before "\n" and a trailing "\r").
    let lineEnds: [Int]

    init(_ text: String) {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [] }
        var starts: [Int] = []
        var ends: [Int] = []
        starts.reserveCapacity(bytes.count / 32 + 1)
        ends.reserveCapacity(bytes.count / 32 + 1)
        var start = 0
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            let count = buffer.count
            while index < count {
                if buffer[index] == 10 {
                    starts.append(start)
                    ends.append(index > start && buffer[index - 1] == 13 ? index - 1 : index)
                    start = index + 1
                }
                index += 1
            }
        }
        if start < bytes.count {
            starts.append(start)
            ends.append(bytes.last == 13 ? bytes.count - 1 : bytes.count)
        }
        self.bytes = bytes
        self.lineStarts = starts
        self.lineEnds = ends
    }

    /// The number of lines (a final "\n" does not start another line).
    var lineCount: Int { lineStarts.count }

    /// The text of 1-based line `line` (without "\r\n").
    func line(_ line: Int) -> String {
        String(decoding: bytes[lineStarts[line - 1]..<lineEnds[line - 1]], as: UTF8.self)
    }

    /// Lines `first...last` (1-based) joined with "\n".
    func text(lines first: Int, _ last: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(lineEnds[last - 1] - lineStarts[first - 1])
        for line in first...last {
            if line > first { out.append(10) }
            out.append(contentsOf: bytes[lineStarts[line - 1]..<lineEnds[line - 1]])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether 1-based line `line` holds only spaces, tabs and form feeds.
    func isBlank(_ line: Int) -> Bool {
        var index = lineStarts[line - 1]
        let end = lineEnds[line - 1]
        while index < end {
            let byte = bytes[index]
            if byte != 32 && byte != 9 && byte != 12 && byte != 13 { return false }
            index += 1
        }
        return true
    }

    /// The offset of the first non-blank byte of 1-based line `line`, or its end.
    func firstNonBlank(_ line: Int) -> Int {
        var index = lineStarts[line - 1]
        let end = lineEnds[line - 1]
        while index < end, bytes[index] == 32 || bytes[index] == 9 || bytes[index] == 12 { index += 1 }
        return index
    }

    /// Indentation width of a line (tabs advance to the next multiple of 8).
    func indentation(_ line: Int) -> Int {
        var index = lineStarts[line - 1]
        let end = lineEnds[line - 1]
        var width = 0
        while index < end {
            switch bytes[index] {
            case 32: width += 1
            case 9: width = (width / 8 + 1) * 8
            case 12: width = 0
            default: return width
            }
            index += 1
        }
        return width
    }

    /// Whether line `line`, after leading blanks, starts with `prefix`.
    func lineHasPrefix(_ line: Int, _ prefix: String) -> Bool {
        var index = firstNonBlank(line)
        let end = lineEnds[line - 1]
        for byte in prefix.utf8 {
            guard index < end, bytes[index] == byte else { return false }
            index += 1
        }
        return true
    }

    /// Bytes `range` with runs of whitespace collapsed to one space and the ends trimmed.
    func collapsed(_ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(min(range.count, 512))
        var pendingSpace = false
        for index in range {
            let byte = bytes[index]
            if byte == 32 || byte == 9 || byte == 10 || byte == 13 || byte == 12 {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(32); pendingSpace = false }
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Byte classes shared by the scanners.
enum Bytes {
    /// Whether `byte` can be part of an identifier (ASCII letters, digits, `_`, `$`, any non-ASCII byte).
    @inline(__always)
    static func isIdentifier(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57)
            || byte == 95 || byte == 36 || byte >= 128
    }

    /// Whether `byte` is a space, tab, newline, carriage return or form feed.
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 32 || byte == 9 || byte == 10 || byte == 13 || byte == 12
    }
}
