import CodeSageCore
import CodeSageService
import Foundation
import MCP
import Search

/// The search tools: semantic_search_codebase, search_codebase, find_duplicate_code.
public enum SearchTools {
    static func request(_ args: ToolArguments, query: String, mode: SearchMode) throws(CodeSageError) -> SearchRequest {
        SearchRequest(query: query, mode: mode, limit: try args.integer("limit", in: 1...100) ?? 10,
                      filter: PathFilter(fileTypes: try args.strings("file_types"), excludePatterns: try args.strings("exclude_patterns")))
    }

    /// Runs a search off the cooperative pool.
    static func run(_ request: SearchRequest, root: String, modeName: String, in workspace: Workspace) async throws -> ToolOutput {
        try await offPool { try ToolOutput(workspace.search(request, root: root, modeName: modeName)) }
    }

    /// semantic_search_codebase: natural-language search by meaning.
    public static func semanticSearch(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "semantic_search_codebase",
            description: "Find code by meaning in an indexed repository: describe what the code does (\"parse command-line flags\", \"retry a failed HTTP request\") and get the best-matching functions and blocks with path, line span, symbol, score and a snippet. Run index_codebase first. Results marked stale changed on disk since indexing.",
            inputSchema: Schema.object([
                "path": Schema.root, "query": Schema.string("What the code does, in words."),
                "limit": Schema.integer("Most results (default 10).", 1...100),
                "file_types": Schema.fileTypes, "exclude_patterns": Schema.excludePatterns,
            ], required: ["path", "query"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "semantic_search_codebase")
            try args.rejectUnknown(allowed: ["path", "query", "limit", "file_types", "exclude_patterns"])
            let root = try args.requiredString("path"), query = try args.requiredString("query")
            return try await run(try request(args, query: query, mode: .semantic), root: root, modeName: "semantic", in: workspace)
        }
    }

    /// search_codebase: hybrid (default), semantic, keyword or regex.
    public static func search(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "search_codebase",
            description: "Search an indexed repository. mode=hybrid (default: meaning and keywords fused), semantic (meaning), keyword (identifier-aware BM25: camelCase and snake_case parts match), or regex (an ICU regular expression over the indexed files' lines, with context_lines around each match; one that runs over 3 s is refused). Filter with file_types and exclude_patterns.",
            inputSchema: Schema.object([
                "path": Schema.root, "query": Schema.string("Words, identifiers, or a regular expression (mode=regex)."),
                "mode": .object(["type": "string", "enum": ["hybrid", "semantic", "keyword", "regex"], "description": "How to match (default hybrid)."]),
                "limit": Schema.integer("Most results (default 10).", 1...100),
                "context_lines": Schema.integer("Lines of context around each regex match (default 2).", 0...20),
                "file_types": Schema.fileTypes, "exclude_patterns": Schema.excludePatterns,
            ], required: ["path", "query"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "search_codebase")
            try args.rejectUnknown(allowed: ["path", "query", "mode", "limit", "context_lines", "file_types", "exclude_patterns"])
            let root = try args.requiredString("path"), query = try args.requiredString("query")
            let modeName = try args.string("mode") ?? "hybrid"
            let context = try args.integer("context_lines", in: 0...20) ?? 2
            let mode: SearchMode
            switch modeName {
            case "hybrid": mode = .hybrid
            case "semantic": mode = .semantic
            case "keyword", "lexical": mode = .lexical
            case "regex":
                let request = try request(args, query: query, mode: .lexical)
                return try await offPool {
                    try ToolOutput(workspace.regexSearch(query, root: root, filter: request.filter, limit: request.limit, contextLines: context))
                }
            default:
                throw CodeSageError(.invalidArgument, "argument \"mode\" must be one of hybrid, semantic, keyword, regex (got \"\(modeName)\")")
            }
            return try await run(try request(args, query: query, mode: mode), root: root, modeName: modeName, in: workspace)
        }
    }

    /// find_duplicate_code: near-identical chunks across the codebase.
    public static func duplicates(_ workspace: Workspace) -> ToolDefinition {
        ToolDefinition(
            name: "find_duplicate_code",
            description: "Find pairs of near-duplicate code blocks in an indexed repository (embedding cosine similarity at or above threshold, default 0.95), most similar first, with both line spans. Overlapping parts of one definition are never paired.",
            inputSchema: Schema.object([
                "path": Schema.root,
                "threshold": .object(["type": "number", "minimum": 0.5, "maximum": 1.0, "description": "Least cosine similarity (default 0.95)."]),
                "limit": Schema.integer("Most pairs (default 20).", 1...500),
                "file_types": Schema.fileTypes, "exclude_patterns": Schema.excludePatterns,
            ], required: ["path"])
        ) { arguments in
            let args = ToolArguments(arguments, tool: "find_duplicate_code")
            try args.rejectUnknown(allowed: ["path", "threshold", "limit", "file_types", "exclude_patterns"])
            let root = try args.requiredString("path")
            let threshold = try args.number("threshold", in: 0.5...1.0) ?? 0.95
            let limit = try args.integer("limit", in: 1...500) ?? 20
            let filter = PathFilter(fileTypes: try args.strings("file_types"), excludePatterns: try args.strings("exclude_patterns"))
            return try await offPool {
                try ToolOutput(workspace.duplicates(root: root, threshold: threshold, limit: limit, filter: filter))
            }
        }
    }
}
