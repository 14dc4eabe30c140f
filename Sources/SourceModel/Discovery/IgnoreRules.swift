/// One line of a `.gitignore`-style file, compiled for matching.
///
/// The syntax is git's (gitignore(5)): `#` starts a comment, `\#` and `\!` are literal, trailing
/// spaces are dropped unless escaped with `\`, a leading `!` negates, a trailing `/` matches only
/// folders, a pattern with a `/` at its start or middle is anchored to the ignore file's folder, one
/// without matches a name at any depth below it, and globs follow git's `wildmatch`.
public struct IgnorePattern: Sendable, Hashable, CustomStringConvertible {
    /// How the compiled glob is matched: by byte equality, as a suffix of the name (`*.ext`), or by `wildmatch`.
    enum Form: Sendable, Hashable {
        case literal
        case suffix
        case wildcard
    }

    /// The line as written (after trailing spaces were trimmed), for diagnostics.
    public let source: String
    /// Whether the line began with `!`: a match re-includes the path.
    public let isNegated: Bool
    /// Whether the line ended with `/`: it matches folders only.
    public let isDirectoryOnly: Bool
    /// Whether the pattern had no `/` (apart from a trailing one): it matches the last path component at any depth.
    public let matchesName: Bool
    /// The glob: without `!`, the trailing `/` and a leading `/`.
    let glob: [UInt8]
    /// How `glob` is matched.
    let form: Form

    /// Compiles one line (without its line break); nil for blank lines, comments and lines that can match nothing.
    public init?(line: some StringProtocol) {
        self.init(bytes: Array(line.utf8)[...])
    }

    /// Compiles one line given as UTF-8 bytes (without its line break; a trailing CR is dropped).
    init?(bytes raw: ArraySlice<UInt8>) {
        var line = raw
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard let first = line.first, first != UInt8(ascii: "#") else { return nil }
        line = Self.trimmingTrailingSpaces(line)
        let source = String(decoding: line, as: UTF8.self)
        var negated = false
        if line.first == UInt8(ascii: "!") {
            negated = true
            line.removeFirst()
        }
        var directoryOnly = false
        if line.last == UInt8(ascii: "/") {
            directoryOnly = true
            line.removeLast()
        }
        guard !line.isEmpty else { return nil }
        let matchesName = !line.contains(UInt8(ascii: "/"))
        if line.first == UInt8(ascii: "/") { line.removeFirst() }
        guard !line.isEmpty else { return nil }
        let glob = Array(line)
        let form: Form
        if !glob.contains(where: Wildmatch.isSpecial) {
            form = .literal
        } else if matchesName && glob[0] == UInt8(ascii: "*") && !glob.dropFirst().contains(where: Wildmatch.isSpecial) {
            form = .suffix
        } else {
            form = .wildcard
        }
        self.source = source
        self.isNegated = negated
        self.isDirectoryOnly = directoryOnly
        self.matchesName = matchesName
        self.glob = glob
        self.form = form
    }

    /// The line as written.
    public var description: String { source }

    /// Whether the pattern matches `relativePath` ("/"-separated, relative to the ignore file's
    /// folder). Only this path is tested, not its parent folders.
    public func matches(_ relativePath: String, isDirectory: Bool) -> Bool {
        withUTF8Bytes(relativePath) { path in
            matches(path: path, nameStart: IgnoreRules.nameStart(of: path), isDirectory: isDirectory)
        }
    }

    /// The hot path: `path` relative to the ignore file's folder; its last component starts at `nameStart`.
    @inline(__always)
    func matches(path: UnsafeBufferPointer<UInt8>, nameStart: Int, isDirectory: Bool) -> Bool {
        if isDirectoryOnly && !isDirectory { return false }
        let subject = matchesName ? UnsafeBufferPointer(rebasing: path[nameStart...]) : path
        switch form {
        case .literal:
            return subject.count == glob.count && glob.withUnsafeBufferPointer { subject.elementsEqual($0) }
        case .suffix:
            // "*literal" against a name, which has no "/" for the "*" to refuse.
            let literalCount = glob.count - 1
            guard subject.count >= literalCount else { return false }
            return glob.withUnsafeBufferPointer { pattern in
                UnsafeBufferPointer(rebasing: subject[(subject.count - literalCount)...])
                    .elementsEqual(UnsafeBufferPointer(rebasing: pattern[1...]))
            }
        case .wildcard:
            return glob.withUnsafeBufferPointer { Wildmatch.matches($0, subject) }
        }
    }

    /// git's trim_trailing_spaces: drops trailing spaces, but not one escaped by a backslash.
    private static func trimmingTrailingSpaces(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var lastSpace: Int? = nil
        var i = line.startIndex
        while i < line.endIndex {
            switch line[i] {
            case UInt8(ascii: " "):
                if lastSpace == nil { lastSpace = i }
            case UInt8(ascii: "\\"):
                i += 1
                if i == line.endIndex { return line }
                lastSpace = nil
            default:
                lastSpace = nil
            }
            i += 1
        }
        guard let lastSpace else { return line }
        return line[..<lastSpace]
    }
}

/// The ignore rules in force for a tree: the patterns of every ignore file read so far, each scoped to
/// the folder holding its file.
///
/// Files are added from the root down (`.git/info/exclude`, then per folder `.gitignore` and then
/// `.codesageignore`), and the last matching pattern wins, which gives git's precedence: a deeper file
/// overrides a shallower one, and a later file in the same folder overrides an earlier one.
public struct IgnoreRules: Sendable {
    /// The outcome of matching one path.
    public enum Verdict: Sendable, Hashable {
        /// The last matching pattern ignores the path.
        case ignored
        /// The last matching pattern is a negation (`!`): the path is explicitly included.
        case included
        /// No pattern matches.
        case unmatched
    }

    /// The patterns of one ignore file and the folder they are relative to.
    struct Level: Sendable {
        /// The folder, relative to the root, with a trailing "/"; empty for the root.
        var base: [UInt8]
        /// The file's patterns in file order.
        var patterns: [IgnorePattern]
    }

    /// Every ignore file added, in the order added.
    private(set) var levels: [Level] = []

    /// No rules: nothing is ignored.
    public init() {}

    /// Whether no pattern has been added.
    public var isEmpty: Bool { levels.isEmpty }

    /// Adds the patterns of an ignore file held in `directory` (relative to the root, "" for the root).
    /// A leading UTF-8 byte order mark is skipped; lines may end in LF or CRLF.
    public mutating func add(contentsOf bytes: [UInt8], directory: String) {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        let patterns = body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).compactMap { IgnorePattern(bytes: $0) }
        guard !patterns.isEmpty else { return }
        var base = Array(directory.utf8)
        while base.last == UInt8(ascii: "/") { base.removeLast() }
        if !base.isEmpty { base.append(UInt8(ascii: "/")) }
        levels.append(Level(base: base, patterns: patterns))
    }

    /// Adds the patterns of an ignore file, given as text, held in `directory` ("" for the root).
    public mutating func add(_ text: String, directory: String) {
        add(contentsOf: Array(text.utf8), directory: directory)
    }

    /// The verdict for `relativePath` itself ("/"-separated, relative to the root), not looking at its
    /// parent folders; `FileDiscovery` uses this as it never enters an ignored folder.
    public func verdict(for relativePath: String, isDirectory: Bool) -> Verdict {
        withUTF8Bytes(relativePath) { verdict(path: $0, nameStart: Self.nameStart(of: $0), isDirectory: isDirectory) }
    }

    /// Whether git would ignore `relativePath`: the path or one of its parent folders is ignored
    /// (a path inside an ignored folder cannot be re-included).
    public func isIgnored(_ relativePath: String, isDirectory: Bool) -> Bool {
        withUTF8Bytes(relativePath) { path in
            var componentStart = 0
            for i in 0..<path.count where path[i] == UInt8(ascii: "/") {
                let folder = UnsafeBufferPointer(rebasing: path[..<i])
                if verdict(path: folder, nameStart: componentStart, isDirectory: true) == .ignored { return true }
                componentStart = i + 1
            }
            return verdict(path: path, nameStart: componentStart, isDirectory: isDirectory) == .ignored
        }
    }

    /// The hot path: the verdict for `path` (relative to the root) whose last component starts at `nameStart`.
    func verdict(path: UnsafeBufferPointer<UInt8>, nameStart: Int, isDirectory: Bool) -> Verdict {
        for level in levels.reversed() {
            let base = level.base
            var relative = path
            var relativeNameStart = nameStart
            if !base.isEmpty {
                guard path.count > base.count, nameStart >= base.count,
                      base.withUnsafeBufferPointer({ UnsafeBufferPointer(rebasing: path[..<$0.count]).elementsEqual($0) })
                else { continue }
                relative = UnsafeBufferPointer(rebasing: path[base.count...])
                relativeNameStart = nameStart - base.count
            }
            for pattern in level.patterns.reversed()
            where pattern.matches(path: relative, nameStart: relativeNameStart, isDirectory: isDirectory) {
                return pattern.isNegated ? .included : .ignored
            }
        }
        return .unmatched
    }

    /// The index where the last "/"-separated component of `path` starts.
    static func nameStart(of path: UnsafeBufferPointer<UInt8>) -> Int {
        var i = path.count
        while i > 0 && path[i - 1] != UInt8(ascii: "/") { i -= 1 }
        return i
    }
}

/// Runs `body` over the UTF-8 bytes of `text` without copying when it is stored contiguously.
@inline(__always)
func withUTF8Bytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    var text = text
    return text.withUTF8(body)
}
