import CodeInsight
import CodeSageCore
import Foundation
import Indexing
import MCP
import Platform

/// Tools that read files and their structure: read_code_file, get_file_structure,
/// list_undocumented_functions, count_lines_of_code, get_dependencies_overview.
public enum FileTools {
    /// Discovery settings of the workspace (size cap; the index folder left out).
    static func discovery(_ workspace: Workspace, _ layout: IndexLayout) -> DiscoveryOptions {
        var options = DiscoveryOptions()
        options.maxFileSize = Int64(clamping: workspace.configuration.maxFileSizeBytes)
        options.excludedPaths.insert(layout.directory)
        return options
    }


    /// read_code_file: a file of an indexed root, optionally a line range.
    public static func readFile(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "read_code_file",
            description: "Read a file of an indexed repository, whole or a line range (1-based, inclusive), with line numbers. Only files inside the indexed root are served: '..' that leaves it, absolute paths elsewhere and symbolic links that escape are refused.",
            inputSchema: Schema.object([
                "path": Schema.root, "file": Schema.string("The file, relative to the root."),
                "start_line": Schema.integer("First line (default 1).", 1...10_000_000),
                "end_line": Schema.integer("Last line (default: the end, at most 2,000 lines after start_line).", 1...10_000_000),
            ], required: ["path", "file"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "read_code_file")
            try args.rejectUnknown(allowed: ["path", "file", "start_line", "end_line"])
            let root = try args.requiredString("path"), file = try args.requiredString("file")
            let start = try args.integer("start_line", in: 1...10_000_000) ?? 1
            let end = try args.integer("end_line", in: 1...10_000_000)
            if let end, end < start { throw CodeSageError(.invalidArgument, "argument \"end_line\" (\(end)) is before start_line (\(start))") }
            return try await offPool {
                let layout = try workspace.indexedLayout(root: root, tool: "read_code_file")
                let target = try Workspace.resolve(file: file, in: layout)
                let maxSize = Int64(clamping: workspace.configuration.maxFileSizeBytes)
                guard case .bytes(let bytes) = try workspace.fileContents(target.absolute) else {
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
                let last = min(end ?? total, total, start + 1_999)
                let shown = start <= last ? lines[(start - 1)..<last].enumerated().map { "\(start + $0.offset)\t\($0.element)" } : []
                struct Excerpt: Encodable { var file: String; var startLine: Int; var endLine: Int; var totalLines: Int; var content: String }
                let content = start <= last ? lines[(start - 1)..<last].joined(separator: "\n") : ""
                return ToolOutput(text: shown.joined(separator: "\n"), structured: try structured(
                    Excerpt(file: target.relative, startLine: start, endLine: max(last, start - 1), totalLines: total, content: content)))
            }
        }
    }

    /// get_file_structure: definitions (nested), imports and line counts of one file.
    public static func fileStructure(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_file_structure",
            description: "Outline one source file: its classes, structs, functions and methods as a tree (kind, qualified name, line span, signature, documented or not), its imports, and its code/comment/blank line counts. Python, Swift, Go, Rust, JavaScript, TypeScript, Java, C and C++.",
            inputSchema: Schema.object(["path": Schema.root, "file": Schema.string("The file, relative to the root.")], required: ["path", "file"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "get_file_structure")
            try args.rejectUnknown(allowed: ["path", "file"])
            let root = try args.requiredString("path"), file = try args.requiredString("file")
            return try await offPool {
                let layout = try workspace.indexedLayout(root: root, tool: "get_file_structure")
                let target = try Workspace.resolve(file: file, in: layout)
                let structure = try FileStructure.make(root: layout.root, path: target.relative, options: discovery(workspace, layout))
                return ToolOutput(text: JSONOutput.text(structure), structured: try structured(structure))
            }
        }
    }

    /// list_undocumented_functions.
    public static func undocumented(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "list_undocumented_functions",
            description: "List functions and methods without a doc comment or docstring across a repository (every language the chunker parses), with path, line, qualified name and signature. include_types adds classes and structs; skip_private leaves out _private (Python) and unexported (Go) names.",
            inputSchema: Schema.object([
                "path": Schema.root, "include_types": Schema.boolean("Also list undocumented types (default false)."),
                "skip_private": Schema.boolean("Leave out private-by-convention names (default false)."),
                "limit": Schema.integer("Most items (default 200).", 1...10_000),
            ], required: ["path"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "list_undocumented_functions")
            try args.rejectUnknown(allowed: ["path", "include_types", "skip_private", "limit"])
            let root = try args.requiredString("path")
            let options = UndocumentedOptions(includeTypes: try args.bool("include_types") ?? false, skipPrivate: try args.bool("skip_private") ?? false)
            let limit = try args.integer("limit", in: 1...10_000) ?? 200
            return try await offPool {
                let layout = try workspace.indexedLayout(root: root, tool: "list_undocumented_functions")
                var report = try UndocumentedFinder.find(root: layout.root, options: options, discovery: discovery(workspace, layout))
                let total = report.items.count
                report.items = Array(report.items.prefix(limit))
                let text = "\(total) undocumented of \(report.checkedCount) checked\(total > limit ? " (first \(limit) shown)" : ""):\n"
                    + report.items.map { "\($0.path):\($0.line) \($0.qualifiedName) — \($0.signature)" }.joined(separator: "\n")
                return ToolOutput(text: text, structured: try structured(report))
            }
        }
    }

    /// count_lines_of_code.
    public static func countLines(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "count_lines_of_code",
            description: "Count code, comment and blank lines per language (and in total) across a repository, honouring .gitignore; binary and oversized files are skipped and listed.",
            inputSchema: Schema.object(["path": Schema.root], required: ["path"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "count_lines_of_code")
            try args.rejectUnknown(allowed: ["path"])
            let root = try args.requiredString("path")
            return try await offPool {
                let layout = try workspace.indexedLayout(root: root, tool: "count_lines_of_code")
                var report = try LineReport.make(root: layout.root, options: discovery(workspace, layout))
                report.files = []  // per-language rows; per-file rows would flood an assistant's context
                let rows = report.languages.map { "\($0.language?.rawValue ?? "other"): \($0.files) files, \($0.lines.code) code, \($0.lines.comment) comment, \($0.lines.blank) blank" }
                let text = (rows + ["total: \(report.fileCount) files, \(report.totals.code) code, \(report.totals.comment) comment, \(report.totals.blank) blank"]).joined(separator: "\n")
                return ToolOutput(text: text, structured: try structured(report))
            }
        }
    }

    /// get_dependencies_overview.
    public static func dependencies(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "get_dependencies_overview",
            description: "Imports per file and the external packages a repository depends on (with how many files use each), telling standard library, external packages and the project's own modules apart. Python, Swift, Go, JavaScript/TypeScript, Rust, Java, C/C++.",
            inputSchema: Schema.object([
                "path": Schema.root, "include_files": Schema.boolean("Include the imports of every file (default false: packages only)."),
            ], required: ["path"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "get_dependencies_overview")
            try args.rejectUnknown(allowed: ["path", "include_files"])
            let root = try args.requiredString("path")
            let includeFiles = try args.bool("include_files") ?? false
            return try await offPool {
                let layout = try workspace.indexedLayout(root: root, tool: "get_dependencies_overview")
                var report = try DependencyReport.make(root: layout.root, options: discovery(workspace, layout))
                if !includeFiles { report.files = [] }
                let text = "external packages (\(report.externalPackages.count)):\n"
                    + report.externalPackages.map { "  \($0.name) (\($0.language)): \($0.importCount) imports in \($0.files.count) files" }.joined(separator: "\n")
                return ToolOutput(text: text, structured: try structured(report))
            }
        }
    }
}
