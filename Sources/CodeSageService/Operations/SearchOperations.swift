import CodeSageCore
import Foundation
import Search

/// The answer of a semantic, lexical or hybrid search.
public struct SearchAnswer: Answer {
    public var query: String
    /// The mode as the caller named it (hybrid, semantic, keyword, lexical).
    public var mode: String
    /// The generation the results come from.
    public var generation: Int64
    /// How the search cache answered: miss (searched), hit (same query) or similar (a near-duplicate query).
    public var cache: String
    public var results: [SearchResult]
    /// Share of the root's chunks that semantic search covers, when below 1 (a cold index still embedding):
    /// a semantic miss may be a file not embedded yet; keyword search covers every chunk. Absent when 1.
    public var semanticCoverage: Double?

    /// Ranked results with path, span, symbol, score and up to six snippet lines each.
    public var text: String {
        let coverage = semanticCoverage.map {
            String(format: "Semantic coverage %.1f%%: the index is still being embedded; keyword search covers every file.\n", $0 * 100)
        } ?? ""
        guard !results.isEmpty else { return coverage + "No results." }
        return coverage + results.enumerated().map { rank, r in
            "\(rank + 1). \(r.path):\(r.startLine)-\(r.endLine)" + (r.symbol.map { " \($0)" } ?? "")
                + String(format: " (score %.4f)", r.score) + (r.stale ? " [file changed since indexing]" : "") + "\n"
                + r.snippet.split(separator: "\n", omittingEmptySubsequences: false).prefix(6).map { "    " + $0 }.joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

/// The answer of a regular-expression search.
public struct RegexAnswer: Answer {
    public var pattern: String
    public var generation: Int64
    public var matches: [RegexSearch.Match]

    /// Each matching line, with its context lines when there are any.
    public var text: String {
        guard !matches.isEmpty else { return "No matches." }
        return matches.map { m in
            "\(m.path):\(m.line): \(m.text)" + (m.before.isEmpty && m.after.isEmpty ? "" :
                "\n" + (m.before.map { "    " + $0 } + ["  > " + m.text] + m.after.map { "    " + $0 }).joined(separator: "\n"))
        }.joined(separator: "\n")
    }
}

/// Near-duplicate pairs of chunks.
public struct DuplicatesAnswer: Answer {
    public var threshold: Double
    public var pairs: [DuplicatePair]

    /// One line per pair: similarity and both spans.
    public var text: String {
        guard !pairs.isEmpty else { return "No pairs at or above \(threshold)." }
        return pairs.map { p in
            String(format: "%.3f  ", p.similarity) + "\(p.first.path):\(p.first.startLine)-\(p.first.endLine)"
                + (p.first.symbol.map { " \($0)" } ?? "") + "  ~  \(p.second.path):\(p.second.startLine)-\(p.second.endLine)"
                + (p.second.symbol.map { " \($0)" } ?? "")
        }.joined(separator: "\n")
    }
}

extension Workspace {
    /// Searches the index of `root` through the search cache; `modeName` is how the caller named the
    /// mode (it is echoed in the answer).
    public func search(_ request: SearchRequest, root: String, modeName: String) throws(CodeSageError) -> SearchAnswer {
        let answer = try search(request, root: root)
        let cache: String
        switch answer.cache {
        case .miss: cache = "miss"
        case .exact: cache = "hit"
        case .similar: cache = "similar"
        }
        var result = SearchAnswer(query: request.query, mode: modeName, generation: answer.generation, cache: cache, results: answer.results)
        if let manifest = try? engine(root: root).snapshot.manifest, manifest.generation == answer.generation, manifest.semanticCoverage < 1 {
            result.semanticCoverage = manifest.semanticCoverage
        }
        return result
    }

    /// Matches `pattern` against the lines of the indexed files of `root`, as they are on disk now.
    public func regexSearch(_ pattern: String, root: String, filter: PathFilter, limit: Int, contextLines: Int) throws(CodeSageError) -> RegexAnswer {
        let snapshot = try engine(root: root).snapshot
        let matches = try RegexSearch.run(pattern: pattern, snapshot: snapshot, filter: filter, limit: limit, contextLines: contextLines)
        return RegexAnswer(pattern: pattern, generation: snapshot.generation, matches: matches)
    }

    /// Pairs of chunks of `root` whose embeddings' cosine is at least `threshold`, most similar first.
    public func duplicates(root: String, threshold: Double, limit: Int, filter: PathFilter) throws(CodeSageError) -> DuplicatesAnswer {
        DuplicatesAnswer(threshold: threshold, pairs: try engine(root: root).duplicates(threshold: threshold, limit: limit, filter: filter))
    }
}
