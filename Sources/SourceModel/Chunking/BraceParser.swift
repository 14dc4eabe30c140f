/// Reads definitions of brace languages from the tokens of `CleanedCode`: at each `{` the statement
/// before it (its header) is classified; the definition ends at the matching `}`. Declarations
/// without a body (Rust `struct X;`, TypeScript `type X = …;`, Go `type X int`) end on their last line.
struct BraceParser {
    let source: SourceLines
    let dialect: BraceDialect
    let cleaned: CleanedCode

    init(source: SourceLines, dialect: BraceDialect) {
        self.source = source
        self.dialect = dialect
        self.cleaned = CleanedCode(source: source, dialect: dialect)
    }

    /// A recognised header.
    struct Header {
        var kind: DefinitionKind
        var name: String
        /// Extra qualification (Go receiver type, C++ `Type::`), outermost first.
        var qualifier: [String] = []
        /// The keyword or name token that fixes the header line.
        var anchor: Int
        /// Token indices of the parameter list's `(` and `)`, if any.
        var parameters: (open: Int, close: Int)?
    }

    /// An open brace or bracket.
    private struct Frame {
        var isBrace: Bool
        var savedStatement: Int
        var definition: Int?
    }

    /// The longest header looked at, in tokens (keeps minified one-line files linear).
    static let headerWindow = 256

    func parse() -> [Definition] {
        let tokens = cleaned.tokens
        var result: [Definition] = []
        var open: [Int] = []               // indices into result of definitions whose body is open
        var frames: [Frame] = []
        var statement = 0
        for index in tokens.indices {
            let token = tokens[index]
            switch token.kind {
            case UInt8(ascii: "("), UInt8(ascii: "["):
                frames.append(Frame(isBrace: false, savedStatement: statement, definition: nil))
                statement = index + 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"):
                if let top = frames.last, !top.isBrace {
                    frames.removeLast()
                    statement = top.savedStatement
                }
            case UInt8(ascii: "{"):
                var definitionIndex: Int?
                let inParens = frames.last.map { !$0.isBrace } ?? false
                let start = max(statement, index - Self.headerWindow)
                if let header = classify(start..<index, open: open, result: result, inParens: inParens) {
                    result.append(makeDefinition(header, bodyStart: index, open: open, result: result))
                    definitionIndex = result.count - 1
                    open.append(result.count - 1)
                }
                frames.append(Frame(isBrace: true, savedStatement: statement, definition: definitionIndex))
                statement = index + 1
            case UInt8(ascii: "}"):
                while let top = frames.last, !top.isBrace { frames.removeLast() }
                if let top = frames.popLast() {
                    if let definition = top.definition {
                        result[definition].endLine = token.line
                        open.removeLast()
                    }
                }
                statement = index + 1
            case UInt8(ascii: ";"):
                if frames.last?.isBrace ?? true {
                    let start = max(statement, index - Self.headerWindow)
                    if let header = classifyBodiless(start..<index, open: open, result: result) {
                        var definition = makeDefinition(header, bodyStart: index, open: open, result: result)
                        definition.endLine = token.line
                        result.append(definition)
                    }
                    statement = index + 1
                }
            case Token.identifier:
                if let definition = lineDeclaration(at: index, frames: frames, open: open, result: result) {
                    result.append(definition)
                }
            default:
                break
            }
        }
        // Bodies still open at the end of the file run to its last non-blank line.
        var last = source.lineCount
        while last > 1 && source.isBlank(last) { last -= 1 }
        for definition in open { result[definition].endLine = max(result[definition].headerLine, last) }
        return result
    }

    // MARK: Token helpers

    func text(_ index: Int) -> String {
        let token = cleaned.tokens[index]
        return String(decoding: source.bytes[token.start..<token.end], as: UTF8.self)
    }

    func isWord(_ index: Int, _ word: StaticString) -> Bool {
        let token = cleaned.tokens[index]
        let count = word.utf8CodeUnitCount
        guard token.kind == Token.identifier, token.end - token.start == count else { return false }
        let pointer = word.utf8Start
        for offset in 0..<count where source.bytes[token.start + offset] != pointer[offset] { return false }
        return true
    }

    func isWord(_ index: Int, in words: [StaticString]) -> Bool {
        words.contains { isWord(index, $0) }
    }

    func kindOf(_ index: Int) -> UInt8 { cleaned.tokens[index].kind }

    func isIdentifier(_ index: Int) -> Bool {
        guard kindOf(index) == Token.identifier else { return false }
        let first = source.bytes[cleaned.tokens[index].start]
        return !(first >= 48 && first <= 57)
    }

    /// The top-level token indices of `range` (a bracket group appears as its opening token) and,
    /// for each opening token, the index of its closing one.
    func topLevel(_ range: Range<Int>) -> (tokens: [Int], close: [Int: Int]) {
        var tokens: [Int] = []
        var close: [Int: Int] = [:]
        var stack: [Int] = []
        for index in range {
            let kind = kindOf(index)
            if kind == UInt8(ascii: "(") || kind == UInt8(ascii: "[") || kind == UInt8(ascii: "{") {
                if stack.isEmpty { tokens.append(index) }
                stack.append(index)
            } else if kind == UInt8(ascii: ")") || kind == UInt8(ascii: "]") || kind == UInt8(ascii: "}") {
                if let opener = stack.popLast() {
                    if stack.isEmpty { close[opener] = index }
                } else {
                    tokens.append(index)
                }
            } else if stack.isEmpty {
                tokens.append(index)
            }
        }
        return (tokens, close)
    }

    static let controlWords: [StaticString] = [
        "if", "for", "while", "switch", "catch", "return", "sizeof", "do", "else", "case", "with", "function",
        "new", "throw", "typeof", "delete", "await", "yield", "defined", "alignof", "decltype", "__attribute__",
        "foreach", "synchronized", "try", "using", "static_assert", "assert",
    ]

    // MARK: Building definitions

    private func makeDefinition(_ header: Header, bodyStart: Int, open: [Int], result: [Definition]) -> Definition {
        let tokens = cleaned.tokens
        let headerLine = tokens[header.anchor].line
        // The signature starts at the first header token on the header line.
        var first = header.anchor
        while first > 0, tokens[first - 1].line == headerLine, first - 1 >= 0,
              !isBoundary(first - 1) {
            first -= 1
        }
        let signatureEnd = bodyStart < tokens.count ? tokens[bodyStart].start : source.bytes.count
        var signature = source.collapsed(tokens[first].start..<max(tokens[first].start, signatureEnd))
        if signature.utf8.count > 400 { signature = String(signature.prefix(400)) }
        let startLine = attributeStart(above: headerLine)
        let commentStart = commentBlockStart(above: startLine)
        var documented = commentStart != nil
        if !documented && dialect.language == .rust && startLine < headerLine {
            documented = (startLine..<headerLine).contains { source.lineHasPrefix($0, "#[doc") }
        }
        let enclosing = open.map { result[$0].name }
        var kind = header.kind
        if kind == .function, let parent = open.last.map({ result[$0] }),
           [.class, .struct, .enum, .interface, .impl].contains(parent.kind) {
            kind = .method
        }
        let qualified = (enclosing + header.qualifier + [header.name]).joined(separator: ".")
        return Definition(
            name: header.name, qualifiedName: qualified, kind: kind, startLine: startLine, headerLine: headerLine,
            endLine: headerLine, commentStartLine: commentStart, hasDocumentation: documented,
            signature: signature, depth: open.count,
            parameters: header.parameters.map { parameterNames($0.open, $0.close) } ?? [])
    }

    private func isBoundary(_ index: Int) -> Bool {
        let kind = kindOf(index)
        return kind == UInt8(ascii: ";") || kind == UInt8(ascii: "{") || kind == UInt8(ascii: "}")
            || kind == UInt8(ascii: ")") && dialect.language == .java
    }

    /// The first line of the attribute/decorator lines directly above `line`, else `line`.
    private func attributeStart(above line: Int) -> Int {
        var start = line
        var candidate = line - 1
        while candidate >= 1 {
            let first = source.firstNonBlank(candidate)
            guard first < source.lineEnds[candidate - 1] else { break }
            let byte = cleaned.code[first]
            let next = first + 1 < cleaned.code.count ? cleaned.code[first + 1] : 0
            let isAttribute: Bool
            switch dialect.language {
            case .rust: isAttribute = byte == UInt8(ascii: "#") && next == UInt8(ascii: "[")
            case .cpp: isAttribute = (byte == UInt8(ascii: "[") && next == UInt8(ascii: "["))
                || source.lineHasPrefix(candidate, "template")
            case .c, .go: isAttribute = false
            default: isAttribute = byte == UInt8(ascii: "@")
            }
            guard isAttribute else { break }
            start = candidate
            candidate -= 1
        }
        return start
    }

    /// The first line of the contiguous comment-only lines directly above `line`, if any.
    private func commentBlockStart(above line: Int) -> Int? {
        var first: Int?
        var candidate = line - 1
        while candidate >= 1, cleaned.isCommentOnly(candidate, in: source) {
            first = candidate
            candidate -= 1
        }
        return first
    }

    /// Parameter names in the group `open…close` (best effort per language).
    private func parameterNames(_ open: Int, _ close: Int) -> [String] {
        guard close > open + 1 else { return [] }
        var names: [String] = []
        var partStart = open + 1
        var depth = 0
        func finish(_ end: Int) {
            guard end > partStart, let name = parameterName(partStart..<end) else { return }
            names.append(name)
        }
        for index in (open + 1)..<close {
            let kind = kindOf(index)
            switch kind {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "<"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ">"): depth = max(0, depth - 1)
            case UInt8(ascii: ",") where depth == 0:
                finish(index)
                partStart = index + 1
            default: break
            }
        }
        finish(close)
        return names
    }

    private func parameterName(_ part: Range<Int>) -> String? {
        var beforeColon: Int?
        var firstIdentifier: Int?
        var lastIdentifier: Int?
        var depth = 0
        for index in part {
            let kind = kindOf(index)
            if kind == UInt8(ascii: "(") || kind == UInt8(ascii: "[") || kind == UInt8(ascii: "<") || kind == UInt8(ascii: "{") {
                depth += 1
                continue
            }
            if kind == UInt8(ascii: ")") || kind == UInt8(ascii: "]") || kind == UInt8(ascii: ">") || kind == UInt8(ascii: "}") {
                depth = max(0, depth - 1)
                continue
            }
            guard depth == 0 else { continue }
            if kind == UInt8(ascii: "=") { break }
            if kind == UInt8(ascii: ":") && dialect.language != .c && dialect.language != .cpp {
                beforeColon = lastIdentifier
                break
            }
            if isIdentifier(index) {
                if firstIdentifier == nil { firstIdentifier = index }
                lastIdentifier = index
            }
        }
        let chosen: Int?
        if let beforeColon { chosen = beforeColon }
        else if dialect.language == .go || dialect.isJavaScript { chosen = firstIdentifier }
        else { chosen = lastIdentifier }
        return chosen.map(text)
    }

    // MARK: Classification

    private func classify(_ range: Range<Int>, open: [Int], result: [Definition], inParens: Bool) -> Header? {
        guard !range.isEmpty else { return nil }
        let parent = open.last.map { result[$0] }
        let inFunction = open.contains { result[$0].kind.isCallable }
        let view = topLevel(range)
        switch dialect.language {
        case .swift: return classifySwift(view, parent: parent)
        case .go: return classifyGo(view)
        case .rust: return classifyRust(view, parent: parent)
        case .javascript, .typescript: return classifyJavaScript(view, parent: parent, inParens: inParens)
        case .java: return classifyJava(view, parent: parent, inFunction: inFunction)
        default: return classifyC(view, parent: parent, inFunction: inFunction)
        }
    }

    /// The next top-level identifier after position `position` of `view`.
    private func identifier(after position: Int, in tokens: [Int]) -> Int? {
        let next = position + 1
        guard next < tokens.count, isIdentifier(tokens[next]) else { return nil }
        return tokens[next]
    }

    private func precededByDot(_ position: Int, in tokens: [Int]) -> Bool {
        position > 0 && kindOf(tokens[position - 1]) == UInt8(ascii: ".")
    }

    /// The first `(` group after position `position` in `view`.
    private func parameterGroup(after position: Int, _ view: (tokens: [Int], close: [Int: Int])) -> (open: Int, close: Int)? {
        var scan = position + 1
        while scan < view.tokens.count {
            let index = view.tokens[scan]
            if kindOf(index) == UInt8(ascii: "("), let close = view.close[index] { return (index, close) }
            if kindOf(index) == UInt8(ascii: "{") { return nil }
            scan += 1
        }
        return nil
    }

    private func classifySwift(_ view: (tokens: [Int], close: [Int: Int]), parent: Definition?) -> Header? {
        let tokens = view.tokens
        for position in tokens.indices.reversed() {
            let index = tokens[position]
            guard kindOf(index) == Token.identifier, !precededByDot(position, in: tokens) else { continue }
            if isWord(index, in: ["init", "deinit", "subscript"]) {
                return Header(kind: .method, name: text(index), anchor: index, parameters: parameterGroup(after: position, view))
            }
            if isWord(index, "func") {
                guard position + 1 < tokens.count else { return nil }
                var name = ""
                var scan = position + 1
                while scan < tokens.count, kindOf(tokens[scan]) != UInt8(ascii: "("), kindOf(tokens[scan]) != UInt8(ascii: "<") || name.isEmpty {
                    name += text(tokens[scan])
                    if isIdentifier(tokens[scan]) { break }
                    scan += 1
                }
                guard !name.isEmpty else { return nil }
                return Header(kind: .function, name: name, anchor: index, parameters: parameterGroup(after: position, view))
            }
            let typeKinds: [(StaticString, DefinitionKind)] = [
                ("class", .class), ("actor", .class), ("struct", .struct), ("enum", .enum), ("protocol", .interface),
            ]
            for (word, kind) in typeKinds where isWord(index, word) {
                guard let name = identifier(after: position, in: tokens),
                      !isWord(name, in: ["func", "var", "let", "subscript", "init", "static", "final", "override", "public", "private", "internal", "open", "fileprivate", "convenience", "required"])
                else { break }
                return Header(kind: kind, name: text(name), anchor: index)
            }
            if isWord(index, "extension") {
                var parts: [String] = []
                var scan = position + 1
                while scan < tokens.count, isIdentifier(tokens[scan]), !isWord(tokens[scan], "where") {
                    parts.append(text(tokens[scan]))
                    scan += 1
                    guard scan < tokens.count, kindOf(tokens[scan]) == UInt8(ascii: ".") else { break }
                    scan += 1
                }
                guard !parts.isEmpty else { return nil }
                return Header(kind: .impl, name: parts.joined(separator: "."), anchor: index)
            }
        }
        return nil
    }

    private func classifyGo(_ view: (tokens: [Int], close: [Int: Int])) -> Header? {
        let tokens = view.tokens
        let all = cleaned.tokens
        for position in tokens.indices.reversed() {
            let index = tokens[position]
            let firstOnLine = index == 0 || all[index - 1].line != all[index].line
            guard firstOnLine, kindOf(index) == Token.identifier else { continue }
            if isWord(index, "func") {
                guard position + 1 < tokens.count else { return nil }
                let next = tokens[position + 1]
                if kindOf(next) == UInt8(ascii: "("), let close = view.close[next] {
                    // Method: func (r *Recv[T]) Name(…)
                    guard position + 2 < tokens.count, isIdentifier(tokens[position + 2]) else { return nil }
                    var receiver: String?
                    var depth = 0
                    for scan in (next + 1)..<close {
                        let kind = kindOf(scan)
                        if kind == UInt8(ascii: "[") { depth += 1 } else if kind == UInt8(ascii: "]") { depth -= 1 }
                        else if depth == 0 && isIdentifier(scan) { receiver = text(scan) }
                    }
                    let name = tokens[position + 2]
                    return Header(kind: .method, name: text(name), qualifier: receiver.map { [$0] } ?? [],
                                  anchor: index, parameters: parameterGroup(after: position + 2, view))
                }
                guard isIdentifier(next) else { return nil }
                return Header(kind: .function, name: text(next), anchor: index, parameters: parameterGroup(after: position + 1, view))
            }
            if isWord(index, "type") {
                guard let name = identifier(after: position, in: tokens) else { return nil }
                var kind = DefinitionKind.type
                var scan = position + 2
                if scan < tokens.count, self.kindOf(tokens[scan]) == UInt8(ascii: "[") { scan += 1 }
                if scan < tokens.count {
                    if isWord(tokens[scan], "struct") { kind = .struct } else if isWord(tokens[scan], "interface") { kind = .interface }
                }
                return Header(kind: kind, name: text(name), anchor: index)
            }
        }
        return nil
    }

    private func classifyRust(_ view: (tokens: [Int], close: [Int: Int]), parent: Definition?) -> Header? {
        let tokens = view.tokens
        for position in tokens.indices.reversed() {
            let index = tokens[position]
            guard kindOf(index) == Token.identifier, !precededByDot(position, in: tokens) else { continue }
            if isWord(index, "fn") {
                guard let name = identifier(after: position, in: tokens) else { return nil }
                return Header(kind: .function, name: text(name), anchor: index, parameters: parameterGroup(after: position, view))
            }
            let typeKinds: [(StaticString, DefinitionKind)] = [
                ("struct", .struct), ("enum", .enum), ("union", .struct), ("trait", .interface), ("mod", .module),
            ]
            for (word, kind) in typeKinds where isWord(index, word) {
                guard let name = identifier(after: position, in: tokens) else { break }
                return Header(kind: kind, name: text(name), anchor: index)
            }
            if isWord(index, "impl") {
                // impl<T> Trait for Type<T> where … — the type is after `for`, else right after impl<…>.
                var scan = position + 1
                var angle = 0
                var typeName: String?
                var afterFor = false
                while scan < tokens.count {
                    let token = tokens[scan]
                    let kind = kindOf(token)
                    if kind == UInt8(ascii: "<") { angle += 1 }
                    else if kind == UInt8(ascii: ">") { angle = max(0, angle - 1) }
                    else if angle == 0 && isWord(token, "where") { break }
                    else if angle == 0 && isWord(token, "for") { afterFor = true; typeName = nil }
                    else if angle == 0 && isIdentifier(token) && !isWord(token, in: ["dyn", "unsafe", "const", "mut"]) {
                        if !afterFor || typeName == nil || kind == Token.identifier { typeName = text(token) }
                    }
                    scan += 1
                }
                guard let typeName else { return nil }
                return Header(kind: .impl, name: typeName, anchor: index)
            }
        }
        return nil
    }

    private func classifyBodiless(_ range: Range<Int>, open: [Int], result: [Definition]) -> Header? {
        guard !range.isEmpty else { return nil }
        switch dialect.language {
        case .rust:
            let view = topLevel(range)
            for (position, index) in view.tokens.enumerated() {
                if isWord(index, in: ["struct", "union"]), let name = identifier(after: position, in: view.tokens) {
                    return Header(kind: .struct, name: text(name), anchor: index)
                }
                if isWord(index, "type"), let name = identifier(after: position, in: view.tokens) {
                    return Header(kind: .type, name: text(name), anchor: index)
                }
                if isWord(index, in: ["fn", "let", "use", "impl", "const", "static"]) { return nil }
            }
        case .javascript, .typescript:
            let view = topLevel(range)
            let tokens = view.tokens
            if dialect.language == .typescript {
                for (position, index) in tokens.prefix(4).enumerated() where isWord(index, "type") {
                    if let name = identifier(after: position, in: tokens) {
                        return Header(kind: .type, name: text(name), anchor: index)
                    }
                }
            }
            if let arrow = tokens.firstIndex(where: { kindOf($0) == Token.fatArrow }),
               let name = assignedName(before: arrow, in: tokens) {
                return Header(kind: .function, name: text(name), anchor: tokens[0],
                              parameters: parameterGroup(after: max(0, arrowParametersPosition(arrow, tokens) - 1), view))
            }
        default:
            break
        }
        return nil
    }

    /// A single-line declaration at an identifier (Go top-level `type X int`, Swift `typealias`).
    private func lineDeclaration(at index: Int, frames: [Frame], open: [Int], result: [Definition]) -> Definition? {
        let tokens = cleaned.tokens
        let line = tokens[index].line
        guard index == 0 || tokens[index - 1].line != line else { return nil }
        let isGoType = dialect.language == .go && frames.isEmpty && isWord(index, "type")
        var isAlias = false
        if dialect.language == .swift {
            var scan = index
            while scan < tokens.count, tokens[scan].line == line, kindOf(scan) == Token.identifier, !isWord(scan, "typealias") { scan += 1 }
            isAlias = scan < tokens.count && tokens[scan].line == line && isWord(scan, "typealias")
            if isAlias {
                guard scan + 1 < tokens.count, isIdentifier(scan + 1) else { return nil }
                let header = Header(kind: .type, name: text(scan + 1), anchor: scan)
                return makeDefinition(header, bodyStart: lineEndToken(from: scan), open: open, result: result)
            }
        }
        guard isGoType, index + 1 < tokens.count, isIdentifier(index + 1), tokens[index + 1].line == line else { return nil }
        var scan = index + 1
        while scan < tokens.count, tokens[scan].line == line {
            if kindOf(scan) == UInt8(ascii: "{") || kindOf(scan) == UInt8(ascii: "(") && scan == index + 1 { return nil }
            scan += 1
        }
        let header = Header(kind: .type, name: text(index + 1), anchor: index)
        return makeDefinition(header, bodyStart: scan, open: open, result: result)
    }

    private func lineEndToken(from index: Int) -> Int {
        let tokens = cleaned.tokens
        var scan = index
        while scan < tokens.count, tokens[scan].line == tokens[index].line { scan += 1 }
        return scan
    }

    /// The identifier assigned by `name = …` or `name: …` before position `limit`, for arrows and function expressions.
    private func assignedName(before limit: Int, in tokens: [Int]) -> Int? {
        for position in 0..<limit where position > 0 {
            let kind = kindOf(tokens[position])
            if kind == UInt8(ascii: "=") {
                let next = position + 1 < tokens.count ? self.kindOf(tokens[position + 1]) : 0
                let previous = self.kindOf(tokens[position - 1])
                if next == UInt8(ascii: "=") || previous == UInt8(ascii: "=") || previous == UInt8(ascii: "!")
                    || previous == UInt8(ascii: "<") || previous == UInt8(ascii: ">") { return nil }
                // `const f: Handler = …` → the name before the type annotation.
                var scan = position - 1
                while scan > 0, !isIdentifier(tokens[scan]) || kindOf(tokens[scan - 1]) == UInt8(ascii: ":") || kindOf(tokens[scan - 1]) == UInt8(ascii: "<") {
                    scan -= 1
                }
                if scan > 0, self.kindOf(tokens[scan - 1]) == UInt8(ascii: ":"), scan >= 2, isIdentifier(tokens[scan - 2]) { scan -= 2 }
                return isIdentifier(tokens[scan]) ? tokens[scan] : nil
            }
            if kind == UInt8(ascii: ":") && position == 1 && isIdentifier(tokens[0]) {
                if position + 1 < limit, isWord(tokens[position + 1], in: ["function", "async"]) || position + 1 < tokens.count && self.kindOf(tokens[position + 1]) == UInt8(ascii: "(") {
                    return tokens[0]
                }
            }
        }
        return nil
    }

    private func arrowParametersPosition(_ arrow: Int, _ tokens: [Int]) -> Int {
        var position = arrow - 1
        while position > 0, kindOf(tokens[position]) != UInt8(ascii: "(") && kindOf(tokens[position]) != UInt8(ascii: "=") { position -= 1 }
        return position
    }

    private func classifyJavaScript(_ view: (tokens: [Int], close: [Int: Int]), parent: Definition?, inParens: Bool) -> Header? {
        let tokens = view.tokens
        guard !tokens.isEmpty else { return nil }
        let isTypeScript = dialect.language == .typescript
        for (position, index) in tokens.enumerated() where kindOf(index) == Token.identifier && !precededByDot(position, in: tokens) {
            if isWord(index, "class") {
                if let name = identifier(after: position, in: tokens), !isWord(name, in: ["extends", "implements"]) {
                    return Header(kind: .class, name: text(name), anchor: index)
                }
                if position > 0 && isWord(tokens[position - 1], "default") { return Header(kind: .class, name: "default", anchor: index) }
                if let name = assignedName(before: position, in: tokens) { return Header(kind: .class, name: text(name), anchor: index) }
                return nil
            }
            if isTypeScript || dialect.language == .javascript {
                let typeKinds: [(StaticString, DefinitionKind)] = isTypeScript
                    ? [("interface", .interface), ("enum", .enum), ("namespace", .module)] : []
                for (word, kind) in typeKinds where isWord(index, word) && (position == 0 || !isIdentifier(tokens[position - 1]) || isWord(tokens[position - 1], in: ["export", "declare", "const", "default"])) {
                    guard let name = identifier(after: position, in: tokens) else { return nil }
                    return Header(kind: kind, name: text(name), anchor: index)
                }
                if isTypeScript, isWord(index, "type"), position < 3, let name = identifier(after: position, in: tokens),
                   position + 2 < tokens.count, kindOf(tokens[position + 2]) == UInt8(ascii: "=") || kindOf(tokens[position + 2]) == UInt8(ascii: "<") {
                    return Header(kind: .type, name: text(name), anchor: index)
                }
            }
            if isWord(index, "function") {
                var next = position + 1
                if next < tokens.count, kindOf(tokens[next]) == UInt8(ascii: "*") { next += 1 }
                if next < tokens.count, isIdentifier(tokens[next]) {
                    return Header(kind: .function, name: text(tokens[next]), anchor: index, parameters: parameterGroup(after: next, view))
                }
                let anchor = tokens[0]
                if position > 0 && isWord(tokens[position - 1], "default") {
                    return Header(kind: .function, name: "default", anchor: anchor, parameters: parameterGroup(after: position, view))
                }
                if let name = assignedName(before: position, in: tokens) {
                    return Header(kind: .function, name: text(name), anchor: anchor, parameters: parameterGroup(after: position, view))
                }
                return nil
            }
        }
        if let arrow = tokens.lastIndex(where: { kindOf($0) == Token.fatArrow }), arrow == tokens.count - 1 {
            if let name = assignedName(before: arrow, in: tokens) {
                return Header(kind: .function, name: text(name), anchor: tokens[0],
                              parameters: parameterGroup(after: max(0, arrowParametersPosition(arrow, tokens) - 1), view))
            }
            return nil
        }
        // A method directly in a class body: [modifiers] name(params) [: Type] {
        guard !inParens, let parent, parent.kind == .class || parent.kind == .interface else { return nil }
        guard let group = tokens.firstIndex(where: { kindOf($0) == UInt8(ascii: "(") }), group > 0 else { return nil }
        let nameToken = tokens[group - 1]
        guard isIdentifier(nameToken), !isWord(nameToken, in: Self.controlWords) else { return nil }
        if tokens[..<group].contains(where: { kindOf($0) == UInt8(ascii: "=") }) { return nil }
        let close = view.close[tokens[group]] ?? tokens[group]
        return Header(kind: .method, name: text(nameToken), anchor: tokens[0], parameters: (tokens[group], close))
    }

    private func classifyJava(_ view: (tokens: [Int], close: [Int: Int]), parent: Definition?, inFunction: Bool) -> Header? {
        let tokens = view.tokens
        let typeKinds: [(StaticString, DefinitionKind)] = [
            ("class", .class), ("interface", .interface), ("enum", .enum), ("record", .class),
        ]
        for (position, index) in tokens.enumerated() where kindOf(index) == Token.identifier && !precededByDot(position, in: tokens) {
            for (word, kind) in typeKinds where isWord(index, word) {
                guard let name = identifier(after: position, in: tokens) else { return nil }
                let isAnnotation = position > 0 && self.kindOf(tokens[position - 1]) == UInt8(ascii: "@")
                var anchor = index
                // The header line begins after annotations: the first token after the last `@Name(…)`.
                if let first = firstAfterAnnotations(tokens, limit: position) { anchor = first }
                return Header(kind: isAnnotation ? .interface : kind, name: text(name), anchor: anchor)
            }
        }
        guard !inFunction, let parent, [.class, .interface, .enum].contains(parent.kind) else { return nil }
        guard let group = tokens.firstIndex(where: { kindOf($0) == UInt8(ascii: "(") && !isAnnotationGroup($0, tokens) }),
              group > 0 else { return nil }
        let nameToken = tokens[group - 1]
        guard isIdentifier(nameToken), !isWord(nameToken, in: Self.controlWords) else { return nil }
        if tokens[..<group].contains(where: { kindOf($0) == UInt8(ascii: "=") || isWord($0, "new") }) { return nil }
        for position in (group + 1)..<tokens.count {
            let index = tokens[position]
            guard isIdentifier(index) || kindOf(index) == UInt8(ascii: ",") || kindOf(index) == UInt8(ascii: ".") else { return nil }
        }
        let anchor = firstAfterAnnotations(tokens, limit: group - 1) ?? nameToken
        let close = view.close[tokens[group]] ?? tokens[group]
        return Header(kind: .method, name: text(nameToken), anchor: anchor, parameters: (tokens[group], close))
    }

    private func isAnnotationGroup(_ index: Int, _ tokens: [Int]) -> Bool {
        guard let position = tokens.firstIndex(of: index), position >= 2 else { return false }
        return kindOf(tokens[position - 2]) == UInt8(ascii: "@")
    }

    /// The first top-level token before `limit` that is not part of an annotation (`@A`, `@A(…)`, `@a.B`).
    private func firstAfterAnnotations(_ tokens: [Int], limit: Int) -> Int? {
        var position = 0
        while position < limit, kindOf(tokens[position]) == UInt8(ascii: "@") {
            position += 2
            while position < limit, kindOf(tokens[position]) == UInt8(ascii: ".") { position += 2 }
            if position < limit, kindOf(tokens[position]) == UInt8(ascii: "(") { position += 1 }
        }
        return position < tokens.count && position <= limit ? tokens[position] : nil
    }

    private func classifyC(_ view: (tokens: [Int], close: [Int: Int]), parent: Definition?, inFunction: Bool) -> Header? {
        guard !inFunction else { return nil }
        var tokens = view.tokens
        // Drop access labels (`public:`) and `template<…>` prefixes.
        while tokens.count >= 2, isWord(tokens[0], in: ["public", "private", "protected"]),
              kindOf(tokens[1]) == UInt8(ascii: ":") {
            tokens.removeFirst(2)
        }
        if let first = tokens.first, isWord(first, "template") {
            var depth = 0
            var position = 1
            while position < tokens.count {
                let kind = kindOf(tokens[position])
                if kind == UInt8(ascii: "<") { depth += 1 } else if kind == UInt8(ascii: ">") {
                    depth -= 1
                    if depth <= 0 { position += 1; break }
                }
                position += 1
            }
            tokens.removeFirst(min(position, tokens.count))
        }
        guard let first = tokens.first else { return nil }
        let hasGroup = tokens.contains { kindOf($0) == UInt8(ascii: "(") }
        let hasAssignment = tokens.contains { kindOf($0) == UInt8(ascii: "=") }
        if !hasGroup && !hasAssignment {
            for (position, index) in tokens.enumerated() {
                let kinds: [(StaticString, DefinitionKind)] = [
                    ("struct", .struct), ("class", .class), ("union", .struct), ("enum", .enum), ("namespace", .module),
                ]
                for (word, kind) in kinds where isWord(index, word) {
                    var scan = position + 1
                    while scan < tokens.count, isWord(tokens[scan], in: ["class", "struct"]) || kind == .module && false { scan += 1 }
                    // The name is the last identifier before `:` / `final` (`class A::B final : public C`).
                    var name: String?
                    while scan < tokens.count, isIdentifier(tokens[scan]) || self.kindOf(tokens[scan]) == Token.scope {
                        if isIdentifier(tokens[scan]), !isWord(tokens[scan], "final") { name = text(tokens[scan]) }
                        scan += 1
                    }
                    guard let name else { return nil }
                    return Header(kind: kind, name: name, anchor: first)
                }
            }
            return nil
        }
        guard hasGroup else { return nil }
        guard let groupPosition = tokens.firstIndex(where: { kindOf($0) == UInt8(ascii: "(") && !isWord(tokens[max(0, (tokens.firstIndex(of: $0) ?? 1) - 1)], in: ["__attribute__", "__declspec", "alignas"]) }),
              groupPosition > 0 else { return nil }
        if tokens[..<groupPosition].contains(where: { kindOf($0) == UInt8(ascii: "=") && !isWord(tokens[max(0, (tokens.firstIndex(of: $0) ?? 1) - 1)], "operator") }) {
            return nil
        }
        // The name: an identifier (maybe `~Name`, `operator==`), possibly qualified with `::`.
        var namePosition = groupPosition - 1
        var name: String
        if isIdentifier(tokens[namePosition]) {
            name = text(tokens[namePosition])
            if namePosition > 0, kindOf(tokens[namePosition - 1]) == UInt8(ascii: "~") { name = "~" + name; namePosition -= 1 }
        } else if let operatorPosition = tokens[..<groupPosition].lastIndex(where: { isWord($0, "operator") }) {
            name = (operatorPosition..<groupPosition).map { text(tokens[$0]) }.joined()
            namePosition = operatorPosition
        } else {
            return nil
        }
        guard !isWord(tokens[groupPosition - 1], in: Self.controlWords) else { return nil }
        var qualifier: [String] = []
        var scan = namePosition
        while scan >= 2, kindOf(tokens[scan - 1]) == Token.scope, isIdentifier(tokens[scan - 2]) {
            qualifier.insert(text(tokens[scan - 2]), at: 0)
            scan -= 2
        }
        // After the parameters only qualifiers, a trailing return type or a constructor's initialisers may follow.
        for position in (groupPosition + 1)..<tokens.count {
            let index = tokens[position]
            if kindOf(index) == UInt8(ascii: ";") { return nil }
        }
        if let parent, parent.kind == .struct || parent.kind == .class || !qualifier.isEmpty {
            _ = parent
        }
        let kind: DefinitionKind = !qualifier.isEmpty ? .method : .function
        let close = view.close[tokens[groupPosition]] ?? tokens[groupPosition]
        return Header(kind: kind, name: name, qualifier: qualifier, anchor: first, parameters: (tokens[groupPosition], close))
    }
}
