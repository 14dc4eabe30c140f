import Buffers
import Caching
import CodeSageCore
import IndexStore
import SourceModel
import Platform

/// How a query is matched.
public enum SearchMode: String, Sendable, Codable, CaseIterable {
    /// Reciprocal-rank fusion of semantic and lexical (the default).
    case hybrid
    /// Nearest chunks by embedding (FAISS, inner product of normalised vectors).
    case semantic
    /// FTS5 BM25 over identifier-split terms.
    case lexical
}

/// A search: the query, how to match it, how many results, which files.
public struct SearchRequest: Sendable {
    public var query: String
    public var mode: SearchMode
    public var limit: Int
    public var filter: PathFilter

    public init(query: String, mode: SearchMode = .hybrid, limit: Int = 10, filter: PathFilter = PathFilter()) {
        self.query = query
        self.mode = mode
        self.limit = limit
        self.filter = filter
    }
}

/// One result: a chunk of a file, best first.
public struct SearchResult: Sendable, Codable, Equatable {
    /// Path relative to the indexed root.
    public var path: String
    public var startLine: Int
    public var endLine: Int
    public var symbol: String?
    public var kind: String?
    public var language: String?
    /// Semantic: cosine similarity; lexical: BM25; hybrid: the fused reciprocal-rank score.
    public var score: Double
    /// The first lines of the chunk.
    public var snippet: String
    /// The file changed (or vanished) since it was indexed: lines may have moved.
    public var stale: Bool
}

/// Answers searches from one index snapshot.
public final class SearchEngine: Sendable {
    public let snapshot: IndexSnapshot
    public let embedder: any TextEmbedder

    /// Candidates fetched from each side before filtering and fusion.
    public static let candidateDepth = 100
    /// Reciprocal-rank fusion constant (Cormack et al. 2009).
    public static let fusionK = 60.0
    /// Weight of the lexical ranking in hybrid fusion (semantic weighs 1).
    public static let lexicalWeight = 0.3
    /// Hybrid ranking prior: a test file's fused score is multiplied by this, so that the
    /// implementation ranks above the tests that exercise it (tests still rank when they match best).
    public static let testFileWeight = 0.7
    /// Lines of a chunk shown as its snippet.
    public static let snippetLines = 12

    /// Buffers for FAISS results (CODESAGE_INDEX_POOL_SIZE); nil allocates per search.
    public let resultPool: BufferPool?

    public init(snapshot: IndexSnapshot, embedder: any TextEmbedder, resultPool: BufferPool? = nil) {
        self.snapshot = snapshot
        self.embedder = embedder
        self.resultPool = resultPool
    }

    /// What the index recorded of a result's file: enough to tell later whether it went stale.
    public struct IndexedFile: Sendable, Hashable {
        public var size: Int64
        public var modificationTime: Int64
    }

    /// Results with the recorded state of each result's file (so a cached answer's `stale` flags can be refreshed).
    public struct Answer: Sendable {
        public var results: [SearchResult]
        /// By result path.
        public var indexedFiles: [String: IndexedFile]

        /// The results with `stale` recomputed from the files on disk now.
        public func refreshed(root: String) -> [SearchResult] {
            results.map { r in
                var r = r
                r.stale = SearchEngine.isStale(root: root, path: r.path, indexed: indexedFiles[r.path])
                return r
            }
        }
    }

    /// Runs `request`; results best first, at most `request.limit`.
    public func search(_ request: SearchRequest) throws(CodeSageError) -> [SearchResult] {
        try answer(request).results
    }

    /// The query's embedding (nil when the index holds no vectors), as `semanticCandidates` computes it.
    public func queryVector(_ query: String) throws(CodeSageError) -> [Float]? {
        guard snapshot.segments != nil else { return nil }
        return try embedder.embed([query.trimmingWhitespace()]).first
    }

    /// Runs `request` and keeps what the index recorded of each result's file. `queryVector`, when
    /// given, is used instead of embedding the query again (it must be `queryVector(request.query)`).
    public func answer(_ request: SearchRequest, queryVector: [Float]? = nil) throws(CodeSageError) -> Answer {
        let query = request.query.trimmingWhitespace()
        guard !query.isEmpty else { throw CodeSageError(.invalidArgument, "the query is empty") }
        guard request.limit > 0 else { throw CodeSageError(.invalidArgument, "limit must be at least 1 (got \(request.limit))") }
        let depth = max(Self.candidateDepth, request.limit * 5)

        var semantic: [(id: Int64, score: Double)] = []
        var lexical: [(id: Int64, score: Double)] = []
        if request.mode != .lexical { semantic = try semanticCandidates(query, depth: depth, vector: queryVector) }
        if request.mode != .semantic { lexical = try lexicalCandidates(query, depth: depth) }

        let ids = Array(Set(semantic.map(\.id) + lexical.map(\.id)))
        let (chunks, files) = try snapshot.withStore { (store) throws(CodeSageError) in
            let chunks = try store.chunks(ids: ids)
            return (chunks, try store.files(ids: Array(Set(chunks.values.map(\.fileID)))))
        }
        func admissible(_ id: Int64) -> Bool {
            guard let chunk = chunks[id] else { return false }
            return request.filter.accepts(path: chunk.path, language: chunk.chunk.language)
        }
        semantic = semantic.filter { admissible($0.id) }
        lexical = lexical.filter { admissible($0.id) }

        let ranked: [(id: Int64, score: Double)]
        switch request.mode {
        case .semantic: ranked = semantic
        case .lexical: ranked = lexical
        case .hybrid:
            ranked = Fusion.reciprocalRank([semantic.map(\.id), lexical.map(\.id)], weights: [1, Self.lexicalWeight], k: Self.fusionK)
                .map { c in (id: c.id, score: TestPaths.isTest(chunks[c.id]?.path ?? "") ? c.score * Self.testFileWeight : c.score) }
                .enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
                .map(\.element)
        }

        var results: [SearchResult] = []
        var indexedFiles: [String: IndexedFile] = [:]
        var seenDefinitions = Set<String>()
        for candidate in ranked {
            guard let record = chunks[candidate.id] else { continue }
            let chunk = record.chunk
            if chunk.partCount > 1, let symbol = chunk.symbol {
                // Parts of one long definition: the best part stands for all of them.
                guard seenDefinitions.insert("\(record.path)\u{0}\(symbol)").inserted else { continue }
            }
            results.append(SearchResult(
                path: record.path, startLine: chunk.startLine, endLine: chunk.endLine, symbol: chunk.symbol, kind: chunk.kind,
                language: chunk.language, score: candidate.score, snippet: Self.snippet(chunk.text),
                stale: isStale(files[record.fileID])))
            if let file = files[record.fileID] { indexedFiles[file.path] = IndexedFile(size: file.size, modificationTime: file.modificationTime) }
            if results.count == request.limit { break }
        }
        return Answer(results: results, indexedFiles: indexedFiles)
    }

    /// Chunk ids nearest to the query's embedding, best first, with cosine similarity.
    public func semanticCandidates(_ query: String, depth: Int, vector given: [Float]? = nil) throws(CodeSageError) -> [(id: Int64, score: Double)] {
        guard let segments = snapshot.segments else { return [] }
        let vector: [Float]
        if let given { vector = given } else if let embedded = try embedder.embed([query]).first { vector = embedded } else { return [] }
        return try segments.search(vector, k: depth, pool: resultPool).map { (id: $0.id, score: Double($0.score)) }
    }

    /// Chunk ids matching the query's terms, best BM25 first.
    public func lexicalCandidates(_ query: String, depth: Int) throws(CodeSageError) -> [(id: Int64, score: Double)] {
        guard let match = SearchTerms.matchExpression(for: query) else { return [] }
        let generation = snapshot.generation
        return try snapshot.withStore { (store) throws(CodeSageError) in
            try store.lexicalSearch(match: match, generation: generation, limit: depth)
        }
    }

    /// Whether the file on disk no longer has the size and time it had when indexed.
    func isStale(_ file: FileRecord?) -> Bool {
        guard let file else { return true }
        return Self.isStale(root: snapshot.layout.root, path: file.path,
                            indexed: IndexedFile(size: file.size, modificationTime: file.modificationTime))
    }

    /// Whether `path` under `root` no longer has the size and time the index recorded (or has no record).
    static func isStale(root: String, path: String, indexed: IndexedFile?) -> Bool {
        guard let indexed else { return true }
        guard let status = try? FileSystem.status(of: root + "/" + path, followingLinks: true) else { return true }
        return status.size != indexed.size || status.modificationTime != indexed.modificationTime
    }

    /// The first `snippetLines` lines of `text` (each cut at 200 characters).
    static func snippet(_ text: String) -> String {
        text.split(separator: "\n", maxSplits: snippetLines, omittingEmptySubsequences: false)
            .prefix(snippetLines)
            .map { $0.count > 200 ? String($0.prefix(200)) + "…" : String($0) }
            .joined(separator: "\n")
    }
}
