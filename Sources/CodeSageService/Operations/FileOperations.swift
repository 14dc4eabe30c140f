import CodeInsight
import CodeSageCore
import Foundation
import IndexStore
import SourceModel

/// Lines of one file, with their numbers.
public struct FileExcerpt: Answer {
    /// The file, relative to the root.
    public var file: String
    public var startLine: Int
    public var endLine: Int
    public var totalLines: Int
    /// The lines, joined by newlines, without numbers.
    public var content: String

    /// Each line prefixed by its number and a tab.
    public var text: String {
        guard endLine >= startLine else { return "" }
        return content.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { "\(startLine + $0.offset)\t\($0.element)" }.joined(separator: "\n")
    }
}

extension FileStructure: Answer {
    /// The outline as JSON text.
    public var text: String { JSONOutput.text(self) }
}

extension LineReport: Answer {
    /// One line per language, then the total.
    public var text: String {
        let rows = languages.map { "\($0.language?.rawValue ?? "other"): \($0.files) files, \($0.lines.code) code, \($0.lines.comment) comment, \($0.lines.blank) blank" }
        return (rows + ["total: \(fileCount) files, \(totals.code) code, \(totals.comment) comment, \(totals.blank) blank"]).joined(separator: "\n")
    }
}

extension DependencyReport: Answer {
    /// The external packages with their import and file counts.
    public var text: String {
        "external packages (\(externalPackages.count)):\n"
            + externalPackages.map { "  \($0.name) (\($0.language)): \($0.importCount) imports in \($0.files.count) files" }.joined(separator: "\n")
    }
}

/// Undocumented definitions, the first `limit` of `total`; encodes as the report it holds.
public struct UndocumentedAnswer: Answer {
    public var report: UndocumentedReport
    /// How many were found before the limit.
    public var total: Int
    public var limit: Int

    public func encode(to encoder: any Encoder) throws { try report.encode(to: encoder) }

    /// A count line, then one line per definition.
    public var text: String {
        "\(total) undocumented of \(report.checkedCount) checked\(total > limit ? " (first \(limit) shown)" : ""):\n"
            + report.items.map { "\($0.path):\($0.line) \($0.qualifiedName) — \($0.signature)" }.joined(separator: "\n")
    }
}

extension Workspace {
    /// Most lines one read returns.
    public static let maxLinesPerRead = 2_000

    /// Discovery settings for `layout` (the size cap; the index folder left out).
    public func discoveryOptions(_ layout: IndexLayout) -> DiscoveryOptions {
        var options = DiscoveryOptions()
        options.maxFileSize = Int64(clamping: configuration.maxFileSizeBytes)
        options.excludedPaths.insert(layout.directory)
        return options
    }

    /// Lines `start`…`end` (1-based, inclusive; at most `maxLinesPerRead`) of `file` in the indexed `root`.
    public func readFile(root: String, file: String, start: Int = 1, end: Int? = nil, tool: String = "read_code_file") throws(CodeSageError) -> FileExcerpt {
        if let end, end < start { throw CodeSageError(.invalidArgument, "argument \"end_line\" (\(end)) is before start_line (\(start))") }
        let layout = try indexedLayout(root: root, tool: tool)
        let target = try Self.resolve(file: file, in: layout)
        let maxSize = Int64(clamping: configuration.maxFileSizeBytes)
        guard case .bytes(let bytes) = try fileContents(target.absolute) else {
            throw CodeSageError(.invalidArgument, "argument \"file\": \(target.relative) is over the size limit (CODESAGE_MAX_FILE_SIZE)")
        }
        let loaded = SourceText.classify(bytes, maxSize: maxSize)
        guard case .text(let text, _) = loaded else {
            throw CodeSageError(.invalidArgument, "argument \"file\": \(target.relative) is \(loaded == .binary ? "binary" : "over the size limit")")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let total = text.hasSuffix("\n") ? lines.count - 1 : lines.count
        guard start <= max(total, 1) else {
            throw CodeSageError(.invalidArgument, "argument \"start_line\": \(target.relative) has \(total) lines")
        }
        let last = min(end ?? total, total, start + Self.maxLinesPerRead - 1)
        let content = start <= last ? lines[(start - 1)..<last].joined(separator: "\n") : ""
        return FileExcerpt(file: target.relative, startLine: start, endLine: max(last, start - 1), totalLines: total, content: content)
    }

    /// The outline of `file` in the indexed `root`: definitions (nested), imports, line counts.
    public func outline(root: String, file: String) throws(CodeSageError) -> FileStructure {
        let layout = try indexedLayout(root: root, tool: "get_file_structure")
        let target = try Self.resolve(file: file, in: layout)
        return try FileStructure.make(root: layout.root, path: target.relative, options: discoveryOptions(layout))
    }

    /// Definitions of the indexed `root` without documentation, the first `limit`.
    public func undocumented(root: String, options: UndocumentedOptions, limit: Int) throws(CodeSageError) -> UndocumentedAnswer {
        let layout = try indexedLayout(root: root, tool: "list_undocumented_functions")
        var report = try UndocumentedFinder.find(root: layout.root, options: options, discovery: discoveryOptions(layout))
        let total = report.items.count
        report.items = Array(report.items.prefix(limit))
        return UndocumentedAnswer(report: report, total: total, limit: limit)
    }

    /// Code, comment and blank lines of the indexed `root` per language (no per-file rows: they would
    /// flood an assistant's context).
    public func lineCounts(root: String) throws(CodeSageError) -> LineReport {
        let layout = try indexedLayout(root: root, tool: "count_lines_of_code")
        var report = try LineReport.make(root: layout.root, options: discoveryOptions(layout))
        report.files = []
        return report
    }

    /// Imports and external packages of the indexed `root`; the per-file imports only with `includeFiles`.
    public func dependencies(root: String, includeFiles: Bool) throws(CodeSageError) -> DependencyReport {
        let layout = try indexedLayout(root: root, tool: "get_dependencies_overview")
        var report = try DependencyReport.make(root: layout.root, options: discoveryOptions(layout))
        if !includeFiles { report.files = [] }
        return report
    }
}
