import Foundation
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import Platform


fileprivate extension DiscoveryResult {
    /// The files' relative paths, in result order.
    var paths: [String] { files.map(\.relativePath) }

    /// The skipped paths with the given reason, in result order.
    func skipped(_ reason: SkipReason) -> [String] {
        skipped.filter { $0.reason == reason }.map(\.relativePath)
    }
}

// MARK: - Ignore patterns

/// One row of the pattern table: the lines of a root `.gitignore`, a path, whether it is a folder,
/// and whether `git check-ignore` (git 2.39) reports it ignored.
struct GitIgnoreCase: Sendable, CustomTestStringConvertible {
    let lines: [String]
    let path: String
    let isDirectory: Bool
    let ignored: Bool

    init(_ lines: [String], _ path: String, directory: Bool = false, _ ignored: Bool) {
        self.lines = lines
        self.path = path
        self.isDirectory = directory
        self.ignored = ignored
    }

    var testDescription: String { "\(lines) \(path)\(isDirectory ? "/" : "") → \(ignored ? "ignored" : "kept")" }
}

/// Answers recorded from `git check-ignore -q` in a scratch repository (which also reports paths inside ignored folders).
let gitCheckIgnoreAnswers: [GitIgnoreCase] = [
    // Names at any depth, and paths inside a matched folder.
    GitIgnoreCase(["*.log"], "a.log", true),
    GitIgnoreCase(["*.log"], "dir/a.log", true),
    GitIgnoreCase(["*.log"], "a.logx", false),
    GitIgnoreCase(["*.log"], "dir.log/x", true),
    // Folder-only rules.
    GitIgnoreCase(["build/"], "build", directory: true, true),
    GitIgnoreCase(["build/"], "build", false),
    GitIgnoreCase(["build/"], "src/build", directory: true, true),
    GitIgnoreCase(["doc/frotz/"], "doc/frotz", directory: true, true),
    GitIgnoreCase(["/a/b/"], "a/b", directory: true, true),
    GitIgnoreCase(["/a/b/"], "x/a/b", directory: true, false),
    // Anchored: a leading or middle "/".
    GitIgnoreCase(["/build"], "build", true),
    GitIgnoreCase(["/build"], "src/build", false),
    GitIgnoreCase(["doc/frotz"], "doc/frotz", true),
    GitIgnoreCase(["doc/frotz"], "a/doc/frotz", false),
    GitIgnoreCase(["foo/bar"], "foo/bar", directory: true, true),
    GitIgnoreCase(["/*.c"], "x.c", true),
    GitIgnoreCase(["/*.c"], "d/x.c", false),
    GitIgnoreCase(["foo/*"], "foo/bar", true),
    GitIgnoreCase(["foo/*"], "foo/bar/baz", true),
    GitIgnoreCase(["foo/*"], "foo", directory: true, false),
    GitIgnoreCase(["a/*/c"], "a/b/c", true),
    GitIgnoreCase(["a/*/c"], "a/b/x/c", false),
    // "**" forms.
    GitIgnoreCase(["**/foo"], "foo", true),
    GitIgnoreCase(["**/foo"], "a/b/foo", true),
    GitIgnoreCase(["**/foo/bar"], "x/foo/bar", true),
    GitIgnoreCase(["**/foo/bar"], "foo/bar", true),
    GitIgnoreCase(["abc/**"], "abc/x", true),
    GitIgnoreCase(["abc/**"], "abc/x/y", true),
    GitIgnoreCase(["abc/**"], "abc", directory: true, false),
    GitIgnoreCase(["a/**/b"], "a/b", true),
    GitIgnoreCase(["a/**/b"], "a/x/b", true),
    GitIgnoreCase(["a/**/b"], "a/x/y/b", true),
    GitIgnoreCase(["a/**/b"], "ab", false),
    GitIgnoreCase(["a**b"], "axxb", true),
    GitIgnoreCase(["a**b"], "ax/xb", false),
    GitIgnoreCase(["a/b/**/"], "a/b/c", directory: true, true),
    GitIgnoreCase(["a/b/**/"], "a/b/c", false),
    GitIgnoreCase(["**"], "x/y", true),
    GitIgnoreCase(["**/"], "x", directory: true, true),
    GitIgnoreCase(["**/"], "x", false),
    GitIgnoreCase(["d/**/*.c"], "d/x.c", true),
    GitIgnoreCase(["d/**/*.c"], "d/e/f/x.c", true),
    // "?", "*" and classes.
    GitIgnoreCase(["?.c"], "a.c", true),
    GitIgnoreCase(["?.c"], "ab.c", false),
    GitIgnoreCase(["a?b"], "a/b", false),
    GitIgnoreCase(["*"], "anything", true),
    GitIgnoreCase(["*.[oa]"], "x.o", true),
    GitIgnoreCase(["*.[oa]"], "x.a", true),
    GitIgnoreCase(["*.[oa]"], "x.c", false),
    GitIgnoreCase(["file[0-9].txt"], "file5.txt", true),
    GitIgnoreCase(["file[0-9].txt"], "filex.txt", false),
    GitIgnoreCase(["file[!0-9].txt"], "filex.txt", true),
    GitIgnoreCase(["file[!0-9].txt"], "file5.txt", false),
    GitIgnoreCase(["file[^0-9].txt"], "filex.txt", true),
    GitIgnoreCase(["[[:upper:]]*"], "Readme", true),
    GitIgnoreCase(["[[:upper:]]*"], "readme", false),
    GitIgnoreCase(["[a-c]x"], "bx", true),
    GitIgnoreCase(["[a-c]x"], "dx", false),
    GitIgnoreCase(["[]]x"], "]x", true),
    GitIgnoreCase(["[!]]x"], "ax", true),
    GitIgnoreCase(["x[\\]]"], "x]", true),
    GitIgnoreCase(["[a-]"], "-", true),
    GitIgnoreCase(["[a-]"], "b", false),
    GitIgnoreCase(["ab[:alpha:]"], "ab:", true),
    // Comments, escapes and trailing spaces.
    GitIgnoreCase(["\\#notcomment"], "#notcomment", true),
    GitIgnoreCase(["#comment"], "#comment", false),
    GitIgnoreCase(["\\!important"], "!important", true),
    GitIgnoreCase(["\\*"], "*", true),
    GitIgnoreCase(["\\*"], "a", false),
    GitIgnoreCase(["trailing   "], "trailing", true),
    GitIgnoreCase(["sp\\ "], "sp ", true),
    GitIgnoreCase(["sp\\ "], "sp", false),
    GitIgnoreCase(["*.txt\r"], "a.txt", true),
    // Negation: the last match wins; nothing under an ignored folder comes back.
    GitIgnoreCase(["*.log", "!keep.log"], "keep.log", false),
    GitIgnoreCase(["*.log", "!keep.log"], "x.log", true),
    GitIgnoreCase(["!keep.log", "*.log"], "keep.log", true),
    GitIgnoreCase(["*", "!*.c"], "x.c", false),
    GitIgnoreCase(["dir/", "!dir/keep"], "dir/keep", true),
    GitIgnoreCase(["dir/*", "!dir/keep"], "dir/keep", false),
    GitIgnoreCase(["dir/*", "!dir/keep"], "dir/other", true),
]

@Suite("Ignore rules")
struct IgnoreRuleTests {
    @Test("agree with git check-ignore", arguments: gitCheckIgnoreAnswers)
    func agreesWithGit(_ row: GitIgnoreCase) {
        var rules = IgnoreRules()
        rules.add(row.lines.joined(separator: "\n") + "\n", directory: "")
        #expect(rules.isIgnored(row.path, isDirectory: row.isDirectory) == row.ignored)
    }

    @Test("blank lines, comments and empty patterns compile to nothing; flags are parsed")
    func parsing() throws {
        for line in ["", "   ", "# comment", "!", "/", "!/", "\r"] { #expect(IgnorePattern(line: line) == nil, "\(line)") }
        let negatedFolder = try #require(IgnorePattern(line: "!/out/"))
        #expect(negatedFolder.isNegated && negatedFolder.isDirectoryOnly && !negatedFolder.matchesName)
        #expect(negatedFolder.glob == Array("out".utf8))
        let name = try #require(IgnorePattern(line: "*.o  "))
        #expect(!name.isNegated && !name.isDirectoryOnly && name.matchesName && name.source == "*.o")
        #expect(name.form == .suffix)
        #expect(IgnorePattern(line: "Makefile")?.form == .literal)
        #expect(IgnorePattern(line: "a/*.c")?.form == .wildcard)
        #expect(IgnorePattern(line: "\\#x")?.form == .wildcard)
    }

    @Test("patterns are scoped to their file's folder; deeper files and later files win")
    func scoping() {
        var rules = IgnoreRules()
        rules.add("*.gen\n/only-root\n", directory: "")
        rules.add("!keep.gen\n/local\n", directory: "sub")
        #expect(rules.isIgnored("x.gen", isDirectory: false))
        #expect(rules.isIgnored("sub/x.gen", isDirectory: false))
        #expect(!rules.isIgnored("sub/keep.gen", isDirectory: false))
        #expect(rules.isIgnored("keep.gen", isDirectory: false))
        #expect(rules.isIgnored("only-root", isDirectory: false))
        #expect(!rules.isIgnored("sub/only-root", isDirectory: false))
        #expect(rules.isIgnored("sub/local", isDirectory: false))
        #expect(!rules.isIgnored("local", isDirectory: false))
        #expect(!rules.isIgnored("subway/local", isDirectory: false))
        #expect(!rules.isIgnored("sub/deeper/local", isDirectory: false))
        #expect(rules.verdict(for: "sub/keep.gen", isDirectory: false) == .included)
        #expect(rules.verdict(for: "plain", isDirectory: false) == .unmatched)
        // A BOM and CRLF line ends are tolerated.
        var windows = IgnoreRules()
        windows.add(contentsOf: [0xEF, 0xBB, 0xBF] + Array("a.txt\r\nb.txt\r\n".utf8), directory: "")
        #expect(windows.isIgnored("a.txt", isDirectory: false) && windows.isIgnored("b.txt", isDirectory: false))
    }

    @Test("wildmatch backtracks correctly on long texts")
    func backtracking() {
        var rules = IgnoreRules()
        rules.add("**/a*a*a*a*a*b\n", directory: "")
        #expect(!rules.isIgnored(String(repeating: "a", count: 200), isDirectory: false))
        #expect(rules.isIgnored("x/y/" + String(repeating: "a", count: 200) + "b", isDirectory: false))
        // Found by fuzzing: a text that ends in something else made every star retry every start
        // (exponential; minutes for 60 characters). A missing literal now aborts the enclosing stars.
        var stars = IgnoreRules()
        stars.add("a*a*a*a*a*a*a*a*b\n**/**/**/**/x\n", directory: "")
        #expect(!stars.isIgnored(String(repeating: "a", count: 60) + "+", isDirectory: false))
        #expect(!stars.isIgnored("d/" + String(repeating: "a", count: 60) + "/+", isDirectory: false))
        #expect(stars.isIgnored("a" + String(repeating: "xa", count: 30) + "b", isDirectory: false))
    }
}

// MARK: - Discovery

@Suite("File discovery")
struct FileDiscoveryTests {
    @Test("nested .gitignore, .git/info/exclude and .codesageignore give git's answers")
    func ignoreFiles() throws {
        let tree = try TreeFixture()
        try tree.write(".gitignore", [
            "*.log", "/top.txt", "build/", "!important.log", "docs/**/*.tmp", "ignored-dir/", "!ignored-dir/inner.txt",
            "\\#hash.txt", "\\!bang.txt", "space\\ ", "weird[0-9]?.c", "",
        ].joined(separator: "\n"))
        try tree.write(".codesageignore", "secret.txt\n!keep.tmp\n")
        try tree.write(".git/info/exclude", "excluded-by-info.txt\n")
        try tree.write(".git/HEAD", "ref: refs/heads/main\n")
        try tree.write(".codesage/index.db", "x")
        try tree.write("src/.gitignore", "*.gen.swift\n!keep.gen.swift\n/local.txt\n")
        try tree.write("src/.codesageignore", "!local.txt\n")
        try tree.write("sub/.codesageignore", "notes.md\n")
        try tree.write("logs/.gitignore", "!debug.log\n")
        for path in [
            "top.txt", "sub/top.txt", "sub/notes.md", "a.log", "important.log", "build/out.o", "src/build", "src/main.swift",
            "src/x.gen.swift", "src/keep.gen.swift", "src/local.txt", "src/deep/local.txt", "local.txt",
            "other/x.gen.swift", "docs/a/b/c.tmp", "docs/c.tmp", "docs/keep.tmp", "docs/readme.md",
            "excluded-by-info.txt", "logs/debug.log", "logs/trace.log", "ignored-dir/inner.txt",
            "#hash.txt", "!bang.txt", "space ", "space", "weird1x.c", "weird12.c", "weirdx1.c", "secret.txt",
        ] { try tree.write(path, "x") }

        let result = try tree.discover()
        // Checked against `git ls-files --others [--ignored] --exclude-standard` on the same tree without the
        // .codesageignore files; those add secret.txt and sub/notes.md, re-include docs/keep.tmp (root, after
        // .gitignore) and src/local.txt (src, after src/.gitignore).
        #expect(result.paths == [
            ".codesageignore", ".gitignore", "docs/keep.tmp", "docs/readme.md", "important.log", "local.txt",
            "logs/.gitignore", "logs/debug.log", "other/x.gen.swift", "space", "src/.codesageignore", "src/.gitignore",
            "src/build", "src/deep/local.txt", "src/keep.gen.swift", "src/local.txt", "src/main.swift",
            "sub/.codesageignore", "sub/top.txt", "weirdx1.c",
        ])
        // Folders (build, ignored-dir) are reported once; nothing inside them, nothing from .git or .codesage.
        #expect(result.skipped(.ignored) == [
            "!bang.txt", "#hash.txt", "a.log", "build", "docs/a/b/c.tmp", "docs/c.tmp", "excluded-by-info.txt",
            "ignored-dir", "logs/trace.log", "secret.txt", "space ", "src/x.gen.swift", "sub/notes.md", "top.txt",
            "weird12.c", "weird1x.c",
        ])
        #expect(result.skipped.count == 16)
    }

    @Test("the ignore file names and excluded names and paths are options")
    func exclusions() throws {
        let tree = try TreeFixture()
        try tree.write(".gitignore", "*.txt\n")
        try tree.write("custom.ignore", "*.md\n")
        try tree.write("a.txt", "x")
        try tree.write("b.md", "x")
        try tree.write(".git/config", "x")
        try tree.write("index/data.bin", "x")
        try tree.write("vendor/lib.c", "x")
        try tree.write("src/vendor/lib.c", "x")
        try tree.write("src/index/keep.c", "x")
        let options = DiscoveryOptions(
            excludedDirectoryNames: ["vendor"],
            excludedPaths: ["\(tree.root)/index/"],
            ignoreFileNames: ["custom.ignore"]
        )
        let result = try tree.discover(options)
        #expect(result.paths == [".git/config", ".gitignore", "a.txt", "custom.ignore", "src/index/keep.c"])
        #expect(result.skipped(.ignored) == ["b.md"])
        #expect(result.skipped.count == 1)
    }

    @Test("size cap, sizes, times and languages from names")
    func sizesAndLanguages() throws {
        let tree = try TreeFixture()
        try tree.write("exact.py", String(repeating: "x", count: 40))
        try tree.write("over.py", String(repeating: "x", count: 41))
        try tree.write("empty.swift", "")
        try tree.write("Makefile", "all:\n")
        try tree.write("run", "#!/usr/bin/env python3\nprint(1)\n")
        let result = try tree.discover(DiscoveryOptions(maxFileSize: 40))
        #expect(result.paths == ["Makefile", "empty.swift", "exact.py", "run"])
        #expect(result.skipped == [SkippedPath(relativePath: "over.py", reason: .tooLarge)])
        let byPath = Dictionary(uniqueKeysWithValues: result.files.map { ($0.relativePath, $0) })
        #expect(byPath["exact.py"]?.size == 40 && byPath["empty.swift"]?.size == 0)
        #expect(byPath["exact.py"]?.language == .python)
        #expect(byPath["empty.swift"]?.language == .swift)
        #expect(byPath["Makefile"]?.language == Language(rawValue: "make"))
        #expect(byPath["run"]?.language == nil)
        // The shebang is read from the content, later.
        guard case .text(let text, _) = try SourceText.load(path: "\(tree.root)/run", maxSize: 100) else {
            Issue.record("run is not text")
            return
        }
        let firstLine = text.split(separator: "\n", maxSplits: 1).first ?? ""
        #expect(Language.detect(path: "run", firstLine: firstLine) == .python)
        // Times are the file's st_mtim in nanoseconds.
        let modified = try #require(FileManager.default.attributesOfItem(atPath: "\(tree.root)/exact.py")[.modificationDate] as? Date)
        let nanoseconds = try #require(byPath["exact.py"]?.modificationTime)
        #expect(abs(Double(nanoseconds) / 1e9 - modified.timeIntervalSince1970) < 0.001)
        let status = try FileSystem.status(of: "\(tree.root)/exact.py", followingLinks: false)
        #expect(nanoseconds == status.modificationTime)
    }

    @Test("links inside the root are followed under the link's path; others are reported")
    func symlinks() throws {
        let outside = try TreeFixture()
        try outside.write("secret.c", "int x;")
        let tree = try TreeFixture()
        try tree.write("lib/util.c", "int util;")
        try tree.write("lib/.gitignore", "*.o\n")
        try tree.write("lib/util.o", "x")
        try tree.link("alias.c", to: "lib/util.c")
        try tree.link("liblink", to: "lib")
        try tree.link("outside.c", to: "\(outside.root)/secret.c")
        try tree.link("outside-dir", to: outside.root)
        try tree.link("sneaky", to: "lib/../../")
        try tree.link("dangling.c", to: "missing.c")
        try tree.link("self", to: "self")
        try tree.link("lib/up", to: "..")
        try tree.link("lib/here", to: ".")
        try tree.folder("x")
        try tree.folder("y")
        try tree.write("x/a.c", "a")
        try tree.write("y/b.c", "b")
        try tree.link("x/toy", to: "../y")
        try tree.link("y/tox", to: "../x")

        let result = try tree.discover()
        #expect(FileSystem.exists("\(outside.root)/secret.c"))  // keeps `outside` alive until here
        #expect(result.paths == [
            "alias.c", "lib/.gitignore", "lib/util.c", "liblink/.gitignore", "liblink/util.c",
            "x/a.c", "x/toy/b.c", "y/b.c", "y/tox/a.c",
        ])
        let alias = try #require(result.files.first { $0.relativePath == "alias.c" })
        #expect(alias.size == 9 && alias.language == .c)
        #expect(result.skipped(.symlinkEscapesRoot) == ["outside-dir", "outside.c", "sneaky"])
        #expect(result.skipped(.unreadable) == ["dangling.c"])
        #expect(result.skipped(.symlinkLoop) == [
            "lib/here", "lib/up", "liblink/here", "liblink/up", "self", "x/toy/tox", "y/tox/toy",
        ])
        // Rules of lib/.gitignore apply under the link too.
        #expect(result.skipped(.ignored) == ["lib/util.o", "liblink/util.o"])
    }

    @Test("a root given through a link, a missing root and a file root")
    func roots() throws {
        let tree = try TreeFixture()
        try tree.write("real/a.swift", "let a = 1")
        try tree.link("via", to: "real")
        let viaLink = try FileDiscovery.discover(root: "\(tree.root)/via")
        #expect(viaLink.paths == ["a.swift"])
        #expect(try FileDiscovery.discover(root: "\(tree.root)/real/").paths == ["a.swift"])
        #expect { try FileDiscovery.discover(root: "\(tree.root)/missing") } throws: { ($0 as? CodeSageError)?.code == .notFound }
        #expect { try FileDiscovery.discover(root: "\(tree.root)/real/a.swift") } throws: { ($0 as? CodeSageError)?.code == .invalidArgument }
    }

    @Test("FIFOs are special; names that are not UTF-8 are unreadable")
    func specialAndBadNames() throws {
        let tree = try TreeFixture()
        try tree.write("ok.txt", "x")
        try tree.shell("mkfifo pipe && printf 'x' > \"$(printf 'bad\\377name')\"")
        let result = try tree.discover()
        #expect(result.paths == ["ok.txt"])
        #expect(result.skipped(.special) == ["pipe"])
        #expect(result.skipped(.unreadable) == ["bad\u{FFFD}name"])
    }

    @Test("a folder without permission is reported, not thrown", .enabled(if: getuid() != 0, "root reads any folder"))
    func unreadableFolder() throws {
        let tree = try TreeFixture()
        try tree.write("closed/a.txt", "x")
        try tree.write("open.txt", "x")
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: "\(tree.root)/closed")
        let result = try tree.discover()
        #expect(result.paths == ["open.txt"])
        #expect(result.skipped == [SkippedPath(relativePath: "closed", reason: .unreadable)])
    }
}

// MARK: - Source text

@Suite("Source text")
struct SourceTextTests {
    @Test("a NUL in the first 8,000 bytes means binary")
    func binarySniff() throws {
        let tree = try TreeFixture()
        var early = [UInt8](repeating: UInt8(ascii: "a"), count: 9_000)
        early[7_999] = 0
        try tree.write("early.bin", bytes: early)
        var late = [UInt8](repeating: UInt8(ascii: "a"), count: 9_000)
        late[8_000] = 0
        try tree.write("late.txt", bytes: late)
        #expect(try SourceText.load(path: "\(tree.root)/early.bin", maxSize: 1 << 20) == .binary)
        guard case .text(let text, let bytes) = try SourceText.load(path: "\(tree.root)/late.txt", maxSize: 1 << 20) else {
            Issue.record("late.txt is not text")
            return
        }
        #expect(bytes == late && text.utf8.count == 9_000)
    }

    @Test("invalid UTF-8 becomes U+FFFD; a BOM is dropped from the text but kept in the bytes")
    func decoding() throws {
        let tree = try TreeFixture()
        let invalid: [UInt8] = [0x61, 0xFF, 0x62, 0xC3, 0x28, 0xE2, 0x82]
        try tree.write("bad.txt", bytes: invalid)
        #expect(try SourceText.load(path: "\(tree.root)/bad.txt", maxSize: 100) == .text("a\u{FFFD}b\u{FFFD}(\u{FFFD}", bytes: invalid))
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("héllo\n".utf8)
        try tree.write("bom.txt", bytes: bom)
        #expect(try SourceText.load(path: "\(tree.root)/bom.txt", maxSize: 100) == .text("héllo\n", bytes: bom))
        try tree.write("empty.txt", bytes: [])
        #expect(try SourceText.load(path: "\(tree.root)/empty.txt", maxSize: 0) == .text("", bytes: []))
    }

    @Test("over the cap is tooLarge; a missing file throws notFound")
    func limits() throws {
        let tree = try TreeFixture()
        try tree.write("big.txt", String(repeating: "x", count: 101))
        #expect(try SourceText.load(path: "\(tree.root)/big.txt", maxSize: 100) == .tooLarge)
        #expect(try SourceText.load(path: "\(tree.root)/big.txt", maxSize: 101) != .tooLarge)
        #expect(SourceText.classify([1, 2, 3], maxSize: 2) == .tooLarge)
        #expect { try SourceText.load(path: "\(tree.root)/missing.txt", maxSize: 100) } throws: { ($0 as? CodeSageError)?.code == .notFound }
    }
}

// MARK: - Platform primitives

@Suite("Directory listing and status")
struct DirectoryListingTests {
    @Test("entries carry their kinds; status and realPath follow links or not")
    func primitives() throws {
        let tree = try TreeFixture()
        try tree.write("file.txt", "12345")
        try tree.folder("folder")
        try tree.link("link", to: "file.txt")
        try tree.link("dangling", to: "nowhere")
        try tree.link("loop", to: "loop")
        let entries = try FileSystem.listDirectory(tree.root).sorted { $0.name < $1.name }
        #expect(entries == [
            DirectoryEntry(name: "dangling", kind: .symlink), DirectoryEntry(name: "file.txt", kind: .regular),
            DirectoryEntry(name: "folder", kind: .directory), DirectoryEntry(name: "link", kind: .symlink),
            DirectoryEntry(name: "loop", kind: .symlink),
        ])
        let file = try FileSystem.status(of: "\(tree.root)/file.txt", followingLinks: false)
        #expect(file.kind == .regular && file.size == 5 && file.inode != 0)
        let viaLink = try FileSystem.status(of: "\(tree.root)/link", followingLinks: true)
        #expect(viaLink == file)
        #expect(try FileSystem.status(of: "\(tree.root)/link", followingLinks: false).kind == .symlink)
        #expect(try FileSystem.status(of: "\(tree.root)/folder", followingLinks: false).kind == .directory)
        let realRoot = try FileSystem.realPath(resolving: tree.root)
        #expect(try FileSystem.realPath(resolving: "\(tree.root)/folder/../link") == "\(realRoot)/file.txt")
        #expect { try FileSystem.status(of: "\(tree.root)/dangling", followingLinks: true) } throws: {
            ($0 as? CodeSageError)?.code == .notFound && (($0 as? CodeSageError)?.cause as? SystemErrno) == .noSuchFile
        }
        #expect { try FileSystem.status(of: "\(tree.root)/loop", followingLinks: true) } throws: {
            (($0 as? CodeSageError)?.cause as? SystemErrno) == .tooManySymbolicLinks
        }
        #expect { try FileSystem.realPath(resolving: "\(tree.root)/dangling") } throws: { ($0 as? CodeSageError)?.code == .notFound }
        #expect { try FileSystem.listDirectory("\(tree.root)/missing") } throws: { ($0 as? CodeSageError)?.code == .notFound }
        #expect { try FileSystem.listDirectory("\(tree.root)/file.txt") } throws: { ($0 as? CodeSageError)?.code == .notFound }
    }
}
