import SourceModel

/// Finds the imports of a source file and classifies each as standard library, external package or
/// internal module. Comments and multi-line strings are skipped (an `import` in a docstring is not one).
///
/// Languages: Python (`import a.b`, `from a.b import c`; relative → internal), Swift (`import X`,
/// `@testable import X`, `import struct X.Y`), Go (single and grouped; standard when the first path
/// element has no dot; under a `go.mod` module → internal), JavaScript/TypeScript (`import … from`,
/// `import 'x'`, `import('x')`, `require('x')`, `export … from`; relative, `@/`, `~/`, `#` → internal;
/// `node:` and Node's built-in modules → standard), Rust (`use`, `extern crate`; `crate`/`self`/`super` →
/// internal; `std`/`core`/`alloc`/`proc_macro`/`test` → standard), Java (`import`, `import static`),
/// C/C++ (`#include`/`#import`: `"x"` → internal, `<x>` → standard for C, POSIX and C++ library headers,
/// internal when the header is under the root, else external). Other languages have no imports.
public enum DependencyScanner {
    /// The imports of `text`, in source order, classified with what `context` knows of the project.
    public static func imports(in text: String, language: Language?, context: DependencyContext = .init()) -> [Import] {
        guard let language, let syntax = CommentSyntax.of(language) else { return [] }
        let bytes = Array(text.utf8)
        var scanner = SourceScanner(bytes: bytes, syntax: syntax, recordRoles: true)
        scanner.run()
        switch language {
        case .c, .cpp:
            return includes(bytes, roles: scanner.roles, context: context)
        case .python, .swift, .go, .javascript, .typescript, .rust, .java:
            let tokens = ImportToken.tokenize(bytes, roles: scanner.roles)
            switch language {
            case .python: return python(tokens, context)
            case .swift: return swift(tokens, context)
            case .go: return go(tokens, context)
            case .rust: return rust(tokens, context)
            case .java: return java(tokens, context)
            default: return javaScript(tokens, context)
            }
        default:
            return []
        }
    }

    // MARK: Python

    static func python(_ t: [ImportToken], _ context: DependencyContext) -> [Import] {
        var result: [Import] = []
        var i = 0
        while i < t.count {
            defer { i += 1 }
            guard t[i].kind == .word, t[i].firstOnLine || (i > 0 && t[i - 1].isPunct(";")) else { continue }
            let line = t[i].line
            if t[i].text == "import" {
                var j = i + 1
                while j < t.count {
                    let (name, next) = dotted(t, j, separator: ".")
                    guard !name.isEmpty else { break }
                    result.append(classifyPython(name, line, context))
                    j = next
                    if j + 1 < t.count, t[j].isWord("as") { j += 2 }
                    guard j < t.count, t[j].isPunct(","), t[j].line == line else { break }
                    j += 1
                }
            } else if t[i].text == "from" {
                var j = i + 1
                var module = ""
                while j < t.count, t[j].line == line || t[j].isPunct("."), t[j].isPunct(".") || (t[j].kind == .word && !t[j].isWord("import")) {
                    module += t[j].text
                    j += 1
                }
                if !module.isEmpty, j < t.count, t[j].isWord("import") { result.append(classifyPython(module, line, context)) }
            }
        }
        return result
    }

    static func classifyPython(_ module: String, _ line: Int, _ context: DependencyContext) -> Import {
        if module.hasPrefix(".") { return Import(module: module, package: module, origin: .internal, line: line) }
        let top = String(module.prefix { $0 != "." })
        let origin: ImportOrigin = PythonStandardLibrary.modules.contains(top) ? .standard
            : context.pythonModules.contains(top) ? .internal : .external
        return Import(module: module, package: top, origin: origin, line: line)
    }

    // MARK: Swift

    static let swiftStandard: Set<String> = [
        "Swift", "Foundation", "FoundationEssentials", "FoundationInternationalization", "FoundationNetworking",
        "FoundationXML", "Dispatch", "Glibc", "Musl", "Darwin", "WinSDK", "Android", "Bionic", "WASILibc", "XCTest",
        "Testing", "os", "ObjectiveC", "_Concurrency", "_StringProcessing", "Synchronization", "RegexBuilder",
        "Observation", "Distributed", "CoreFoundation", "Cxx", "CxxStdlib", "UIKit", "AppKit", "SwiftUI", "Combine",
        "CoreData", "CoreGraphics", "CoreImage", "CoreText", "CoreLocation", "CoreML", "Cocoa", "Security",
        "Network", "System", "Metal", "MetalKit", "AVFoundation", "QuartzCore", "WebKit", "SwiftData", "OSLog",
        "CryptoKit", "StoreKit", "MapKit", "Photos", "UserNotifications", "Accelerate",
    ]
    static let swiftImportKinds: Set<String> = ["typealias", "struct", "class", "enum", "protocol", "let", "var", "func"]

    static func swift(_ t: [ImportToken], _ context: DependencyContext) -> [Import] {
        var result: [Import] = []
        for i in t.indices where t[i].isWord("import") && !(i > 0 && t[i - 1].isPunct(".")) {
            var j = i + 1
            if j < t.count, t[j].kind == .word, swiftImportKinds.contains(t[j].text) { j += 1 }
            let (path, _) = dotted(t, j, separator: ".")
            guard !path.isEmpty else { continue }
            let top = String(path.prefix { $0 != "." })
            let origin: ImportOrigin = context.swiftModules.contains(top) ? .internal
                : swiftStandard.contains(top) ? .standard : .external
            result.append(Import(module: path, package: top, origin: origin, line: t[i].line))
        }
        return result
    }

    // MARK: Go

    static func go(_ t: [ImportToken], _ context: DependencyContext) -> [Import] {
        var result: [Import] = []
        var i = 0
        while i < t.count {
            defer { i += 1 }
            guard t[i].isWord("import"), !(i > 0 && t[i - 1].isPunct(".")) else { continue }
            var j = i + 1
            if j < t.count, t[j].isPunct("(") {
                j += 1
                while j < t.count, !t[j].isPunct(")") {
                    if t[j].kind == .string { result.append(classifyGo(t[j].literalContent, t[j].line, context)) }
                    j += 1
                }
                i = j
            } else {
                if j < t.count, t[j].kind != .string { j += 1 }  // alias, "." or "_"
                if j < t.count, t[j].kind == .string { result.append(classifyGo(t[j].literalContent, t[j].line, context)) }
            }
        }
        return result
    }

    static func classifyGo(_ path: String, _ line: Int, _ context: DependencyContext) -> Import {
        if context.goModules.contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
            return Import(module: path, package: context.goModules.filter { path == $0 || path.hasPrefix($0 + "/") }.max { $0.count < $1.count } ?? path,
                          origin: .internal, line: line)
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard let first = parts.first, first.contains(".") else {
            return Import(module: path, package: String(parts.first ?? ""), origin: .standard, line: line)
        }
        let hosts: Set<Substring> = ["github.com", "gitlab.com", "bitbucket.org", "golang.org", "gitee.com", "codeberg.org", "git.sr.ht"]
        let keep = hosts.contains(first) ? 3 : 2
        return Import(module: path, package: parts.prefix(keep).joined(separator: "/"), origin: .external, line: line)
    }

    // MARK: JavaScript / TypeScript

    static let nodeBuiltins: Set<String> = [
        "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram",
        "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net",
        "os", "path", "perf_hooks", "process", "punycode", "querystring", "readline", "repl", "stream",
        "string_decoder", "sys", "test", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi",
        "worker_threads", "zlib",
    ]

    static func javaScript(_ t: [ImportToken], _ context: DependencyContext) -> [Import] {
        var result: [Import] = []
        func add(_ token: ImportToken, _ line: Int) {
            guard token.kind == .string, !token.text.hasPrefix("`") else { return }
            result.append(classifyJavaScript(token.literalContent, line, context))
        }
        for i in t.indices where t[i].kind == .word && !(i > 0 && t[i - 1].isPunct(".")) {
            let line = t[i].line
            switch t[i].text {
            case "require":
                if i + 2 < t.count, t[i + 1].isPunct("("), t[i + 2].kind == .string { add(t[i + 2], line) }
            case "import":
                guard i + 1 < t.count else { continue }
                if t[i + 1].kind == .string { add(t[i + 1], line); continue }
                if t[i + 1].isPunct("(") {
                    if i + 2 < t.count { add(t[i + 2], line) }
                    continue
                }
                if t[i + 1].isPunct(".") { continue }  // import.meta
                if let from = fromClause(t, i + 1) { add(from, line) }
            case "export":
                guard i + 1 < t.count else { continue }
                var j = i + 1
                if t[j].isWord("type") { j += 1 }
                guard j < t.count, t[j].isPunct("*") || t[j].isPunct("{") else { continue }
                if let from = fromClause(t, j) { add(from, line) }
            default:
                break
            }
        }
        return result
    }

    /// The string after `from` in an import/export clause starting at `j`, stopping at anything that
    /// cannot be part of the clause.
    static func fromClause(_ t: [ImportToken], _ start: Int) -> ImportToken? {
        let stops: Set<String> = ["import", "export", "const", "let", "var", "function", "class", "require"]
        var j = start
        var braces = 0
        while j < t.count, j - start < 2_000 {
            let token = t[j]
            if token.isPunct("{") { braces += 1 }
            if token.isPunct("}") { braces -= 1 }
            if braces == 0 {
                if token.isWord("from") { return j + 1 < t.count && t[j + 1].kind == .string ? t[j + 1] : nil }
                if token.isPunct(";") || token.isPunct("=") || token.isPunct("(") || token.kind == .string { return nil }
                if token.kind == .word, stops.contains(token.text) { return nil }
            }
            if braces < 0 { return nil }
            j += 1
        }
        return nil
    }

    static func classifyJavaScript(_ specifier: String, _ line: Int, _ context: DependencyContext) -> Import {
        if specifier.hasPrefix(".") || specifier.hasPrefix("/") || specifier.hasPrefix("~/") || specifier.hasPrefix("@/") || specifier.hasPrefix("#") {
            return Import(module: specifier, package: specifier, origin: .internal, line: line)
        }
        if specifier.hasPrefix("node:") {
            let name = specifier.dropFirst(5).prefix { $0 != "/" }
            return Import(module: specifier, package: String(name), origin: .standard, line: line)
        }
        if specifier.contains("://") { return Import(module: specifier, package: specifier, origin: .external, line: line) }
        let parts = specifier.split(separator: "/", omittingEmptySubsequences: false)
        let package = specifier.hasPrefix("@") && parts.count >= 2 ? parts.prefix(2).joined(separator: "/") : String(parts.first ?? "")
        if context.javaScriptPackages.contains(package) { return Import(module: specifier, package: package, origin: .internal, line: line) }
        if nodeBuiltins.contains(package) { return Import(module: specifier, package: package, origin: .standard, line: line) }
        return Import(module: specifier, package: package, origin: .external, line: line)
    }

    // MARK: Rust

    static func rust(_ t: [ImportToken], _ context: DependencyContext) -> [Import] {
        var result: [Import] = []
        for i in t.indices where t[i].kind == .word {
            if t[i].text == "use" {
                var j = i + 1
                var path: [String] = []
                if j + 1 < t.count, t[j].isPunct(":"), t[j + 1].isPunct(":") { j += 2 }
                while j < t.count, t[j].kind == .word, !t[j].isWord("as") {
                    path.append(t[j].text)
                    guard j + 2 < t.count, t[j + 1].isPunct(":"), t[j + 2].isPunct(":") else { break }
                    j += 3
                }
                guard let first = path.first else { continue }
                result.append(classifyRust(path.joined(separator: "::"), first, t[i].line, context))
            } else if t[i].text == "extern", i + 2 < t.count, t[i + 1].isWord("crate"), t[i + 2].kind == .word {
                result.append(classifyRust(t[i + 2].text, t[i + 2].text, t[i].line, context))
            }
        }
        return result
    }

    static func classifyRust(_ module: String, _ first: String, _ line: Int, _ context: DependencyContext) -> Import {
        let origin: ImportOrigin
        if ["crate", "self", "super", "Self"].contains(first) || context.rustModules.contains(first) {
            origin = .internal
        } else if ["std", "core", "alloc", "proc_macro", "test"].contains(first) {
            origin = .standard
        } else {
            origin = .external
        }
        return Import(module: module, package: first, origin: origin, line: line)
    }

    // MARK: Java

    static let javaxStandard: Set<String> = [
        "accessibility", "annotation", "crypto", "imageio", "lang", "management", "naming", "net", "print", "rmi",
        "script", "security", "sound", "sql", "swing", "tools", "transaction", "xml",
    ]

    static func java(_ t: [ImportToken], _ context: DependencyContext) -> [Import] {
        var result: [Import] = []
        for i in t.indices where t[i].isWord("import") && (t[i].firstOnLine || (i > 0 && t[i - 1].isPunct(";"))) {
            var j = i + 1
            if j < t.count, t[j].isWord("static") { j += 1 }
            var parts: [String] = []
            while j < t.count, j - i < 400, !t[j].isPunct(";") {
                if t[j].kind == .word || t[j].isPunct("*") { parts.append(t[j].text) } else if !t[j].isPunct(".") { break }
                j += 1
            }
            guard !parts.isEmpty else { continue }
            let module = parts.joined(separator: ".")
            let packageParts = parts.prefix { $0 != "*" && !($0.first?.isUppercase ?? false) }
            let package = packageParts.prefix(3).joined(separator: ".")
            let origin: ImportOrigin
            let first = parts[0], second = parts.count > 1 ? parts[1] : ""
            if first == "java" || first == "jdk" || first == "sun" || (first == "javax" && javaxStandard.contains(second))
                || (first == "com" && second == "sun") || module.hasPrefix("org.w3c.dom") || module.hasPrefix("org.xml.sax")
                || module.hasPrefix("org.ietf.jgss") {
                origin = .standard
            } else if !packageParts.isEmpty, context.javaPackageFolders.contains(packageParts.joined(separator: "/")) {
                origin = .internal
            } else {
                origin = .external
            }
            result.append(Import(module: module, package: package.isEmpty ? module : package, origin: origin, line: t[i].line))
        }
        return result
    }

    // MARK: C and C++

    static func includes(_ bytes: [UInt8], roles: [ByteRole], context: DependencyContext) -> [Import] {
        var result: [Import] = []
        var line = 1
        var i = 0
        let n = bytes.count
        while i < n {
            var j = i
            while j < n && SourceScanner.isSpace(bytes[j]) { j += 1 }
            if j < n, bytes[j] == 35, roles[j] == .code {
                j += 1
                while j < n && SourceScanner.isSpace(bytes[j]) { j += 1 }
                var k = j
                while k < n && SourceScanner.isLetter(bytes[k]) { k += 1 }
                let directive = String(decoding: bytes[j..<k], as: UTF8.self)
                if directive == "include" || directive == "import" || directive == "include_next" {
                    while k < n && SourceScanner.isSpace(bytes[k]) { k += 1 }
                    if k < n, bytes[k] == 60 || bytes[k] == 34 {
                        let close: UInt8 = bytes[k] == 60 ? 62 : 34
                        var e = k + 1
                        while e < n, bytes[e] != close, bytes[e] != 10 { e += 1 }
                        if e < n, bytes[e] == close {
                            let name = String(decoding: bytes[(k + 1)..<e], as: UTF8.self)
                            result.append(classifyInclude(name, system: close == 62, line, context))
                        }
                    }
                }
            }
            while i < n && bytes[i] != 10 { i += 1 }
            i += 1
            line += 1
        }
        return result
    }

    static func classifyInclude(_ name: String, system: Bool, _ line: Int, _ context: DependencyContext) -> Import {
        if !system { return Import(module: name, package: name, origin: .internal, line: line) }
        let posixFolders = ["sys/", "bits/", "linux/", "arpa/", "netinet/", "net/", "asm/", "machine/"]
        if CStandardHeaders.names.contains(name) || posixFolders.contains(where: { name.hasPrefix($0) }) {
            return Import(module: name, package: name, origin: .standard, line: line)
        }
        if context.headerPaths.contains(name) { return Import(module: name, package: name, origin: .internal, line: line) }
        let package: String
        if let slash = name.firstIndex(of: "/") {
            package = String(name[..<slash])
        } else if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            package = String(name[..<dot])
        } else {
            package = name
        }
        return Import(module: name, package: package, origin: .external, line: line)
    }

    // MARK: Shared

    /// A name of words joined by `separator` punctuation tokens starting at `j` (same line, or any line
    /// after a separator); returns it and the index after it.
    static func dotted(_ t: [ImportToken], _ j: Int, separator: String) -> (String, Int) {
        var j = j
        var name = ""
        while j < t.count, t[j].kind == .word {
            name += t[j].text
            guard j + 2 < t.count, t[j + 1].isPunct(separator), t[j + 2].kind == .word, t[j + 2].line == t[j].line else {
                return (name, j + 1)
            }
            name += separator
            j += 2
        }
        return (name, j)
    }
}
