import CodeInsight
import CodeSageCore
import Foundation
import CodeSageService
import MCP

/// Tools that read files and their structure: read_code_file, get_file_structure,
/// list_undocumented_functions, count_lines_of_code, get_dependencies_overview.
public enum FileTools {
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
            return try await offPool { try ToolOutput(workspace.readFile(root: root, file: file, start: start, end: end)) }
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
            return try await offPool { try ToolOutput(workspace.outline(root: root, file: file)) }
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
            return try await offPool { try ToolOutput(workspace.undocumented(root: root, options: options, limit: limit)) }
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
            return try await offPool { try ToolOutput(workspace.lineCounts(root: root)) }
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
            return try await offPool { try ToolOutput(workspace.dependencies(root: root, includeFiles: includeFiles)) }
        }
    }
}
