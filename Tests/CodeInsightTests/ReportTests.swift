import CodeSageCore
import Foundation
import Testing
import SourceModel
@testable import CodeInsight

/// A throw-away tree under a fresh temporary folder.
final class InsightTree {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "/codesage-insight-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `contents` to `path` (relative to the root), creating folders on the way.
    func write(_ path: String, _ contents: String) throws {
        try write(path, bytes: Array(contents.utf8))
    }

    /// Writes raw bytes to `path`.
    func write(_ path: String, bytes: [UInt8]) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
    }

    /// A small project in several languages.
    static func project() throws -> InsightTree {
        let tree = try InsightTree()
        try tree.write("app/__init__.py", "")
        try tree.write("app/core.py", """
        import os
        import requests
        from app import helpers
        from .models import User


        class Service:
            \"\"\"A service.\"\"\"

            def run(self):
                return 1

            def _hidden(self):
                '''Documented.'''
                return 2


        def _private():
            return 3
        """)
        try tree.write("tool.py", "import requests\nimport app.core\n\ndef main():\n    pass\n")
        try tree.write("go.mod", "module example.com/svc\n\ngo 1.22\n")
        try tree.write("cmd/main.go", """
        package main

        import (
            "fmt"
            "example.com/svc/internal/db"
        )

        // Main runs.
        func Main() { fmt.Println(db.X) }

        func helper() {}
        """)
        try tree.write("web/index.ts", "import React from 'react';\n// c\n\nexport function f() {}\n")
        try tree.write("blob.bin", bytes: [0x00, 0x01, 0x02, 10])
        try tree.write("notes.md", "# Title\n\ntext\n")
        try tree.write(".gitignore", "ignored/\n")
        try tree.write("ignored/x.py", "import secret\n")
        return tree
    }
}

/// Reports over a fixture tree, and file structure.
@Suite struct ReportTests {
    @Test func lineReport() throws {
        let tree = try InsightTree.project()
        let report = try LineReport.make(root: tree.root)
        #expect(report.skippedFiles == ["blob.bin"])
        #expect(report.fileCount == 8)
        #expect(!report.files.contains { $0.path.hasPrefix("ignored/") })
        let python = try #require(report.languages.first)
        #expect(python.language == .python)
        #expect(python.files == 3)
        // core.py: 11 code, 2 docstring lines, 6 blank; tool.py: 4 code, 1 blank; __init__.py empty.
        #expect(python.lines == LineCounts(code: 15, comment: 2, blank: 7))
        let go = try #require(report.languages.first { $0.language == .go })
        #expect(go.lines == LineCounts(code: 7, comment: 1, blank: 3))
        #expect(report.totals == report.languages.reduce(LineCounts()) { $0 + $1.lines })
        #expect(report.languages.map(\.lines.code) == report.languages.map(\.lines.code).sorted(by: >))
    }

    @Test func dependencyReport() throws {
        let tree = try InsightTree.project()
        let report = try DependencyReport.make(root: tree.root)
        #expect(report.files.map(\.path) == ["app/core.py", "cmd/main.go", "tool.py", "web/index.ts"])
        #expect(report.externalPackages.map { "\($0.language) \($0.name) \($0.importCount) \($0.files)" } == [
            "python requests 2 [\"app/core.py\", \"tool.py\"]", "typescript react 1 [\"web/index.ts\"]",
        ])
        #expect(report.standardModules.map(\.name) == ["fmt", "os"])
        // from app import helpers, .models, app.core, example.com/svc/internal/db
        #expect(report.internalImportCount == 4)
        #expect(report.scannedFileCount == 5)
    }

    @Test func undocumented() throws {
        let tree = try InsightTree.project()
        let all = try UndocumentedFinder.find(root: tree.root)
        #expect(all.items.map { "\($0.path):\($0.line) \($0.qualifiedName)" } == [
            "app/core.py:10 Service.run", "app/core.py:18 _private", "cmd/main.go:11 helper", "tool.py:4 main",
            "web/index.ts:4 f",
        ])
        let public_ = try UndocumentedFinder.find(root: tree.root, options: UndocumentedOptions(includeTypes: true, skipPrivate: true))
        #expect(public_.items.map(\.qualifiedName) == ["Service.run", "main", "f"])
    }

    @Test func fileStructure() throws {
        let tree = try InsightTree.project()
        let structure = try FileStructure.make(root: tree.root, path: "app/core.py")
        #expect(structure.language == .python)
        #expect(structure.imports.map(\.origin) == [.standard, .external, .internal, .internal])
        #expect(structure.lines == LineCounts(code: 11, comment: 2, blank: 6))
        #expect(structure.definitions.map(\.name) == ["Service", "_private"])
        let service = structure.definitions[0]
        #expect(service.kind == .class && service.documented && service.startLine == 7 && service.endLine == 15)
        #expect(service.children.map(\.qualifiedName) == ["Service.run", "Service._hidden"])
        #expect(service.children.map(\.documented) == [false, true])
        #expect(service.children[0].signature == "def run(self)")
        // Codable round trip.
        let data = try JSONEncoder().encode(structure)
        #expect(try JSONDecoder().decode(FileStructure.self, from: data) == structure)

        #expect(throws: CodeSageError.self) { try FileStructure.make(root: tree.root, path: "../etc/passwd") }
        #expect(throws: CodeSageError.self) { try FileStructure.make(root: tree.root, path: "blob.bin") }
        #expect(throws: CodeSageError.self) { try FileStructure.make(root: tree.root, path: "missing.py") }
        #expect(throws: CodeSageError.self) { try LineReport.make(root: tree.root + "/nope") }
    }

    @Test func nestedStructureInBraceLanguages() {
        let text = """
        /// A type.
        struct Outer {
            struct Inner {
                func deep() {}
            }
            func method() {}
        }
        func free() {}
        """
        let structure = FileStructure.analyze(text: text, path: "x.swift")
        #expect(structure.definitions.map(\.name) == ["Outer", "free"])
        #expect(structure.definitions[0].children.map(\.name) == ["Inner", "method"])
        #expect(structure.definitions[0].children[0].children.map(\.qualifiedName) == ["Outer.Inner.deep"])
        #expect(structure.definitions[0].documented)
    }
}
