import Caching
import CodeSageCore
import Synchronization

/// Search answers kept in memory, keyed by root, index generation, the normalised query and every
/// option; a new query whose embedding is within `similarity` (cosine) of a cached query's, with the
/// same options, is answered from that entry too (a near-duplicate hit).
///
/// A published generation invalidates everything cached for the root: the generation is part of
/// the key, and `invalidate(root:keeping:)` drops the older entries. The `stale` flags of a cached
/// answer are recomputed from the files on disk at every hit.
public final class SearchCache: ManagedCache, Sendable {
    /// What identifies one search.
    public struct Key: Hashable, Sendable {
        public var root: String
        public var generation: Int64
        /// The query with surrounding whitespace removed and inner runs of whitespace made one space
        /// (case is kept: identifiers are split at case changes).
        public var query: String
        public var mode: SearchMode
        public var limit: Int
        public var fileTypes: [String]
        public var includePatterns: [String]
        public var excludePatterns: [String]

        /// The key of `request` against generation `generation` of `root`.
        public init(root: String, generation: Int64, request: SearchRequest) {
            self.root = root
            self.generation = generation
            query = SearchCache.normalise(request.query)
            mode = request.mode
            limit = request.limit
            fileTypes = request.filter.fileTypes
            includePatterns = request.filter.includePatterns
            excludePatterns = request.filter.excludePatterns
        }

        /// Same root, generation and options, whatever the query.
        func sameOptions(_ other: Key) -> Bool {
            root == other.root && generation == other.generation && mode == other.mode && limit == other.limit
                && fileTypes == other.fileTypes && includePatterns == other.includePatterns && excludePatterns == other.excludePatterns
        }
    }

    /// How a search was answered.
    public enum Outcome: Sendable, Equatable {
        /// Searched the index (and cached the answer).
        case miss
        /// The same query and options were cached.
        case exact
        /// A cached query with the same options had this cosine to the new query's embedding.
        case similar(cosine: Double)
    }

    struct Entry: Sendable {
        var answer: SearchEngine.Answer
        var vector: [Float]?
    }

    public var name: String { entries.name }
    /// Cosine at or above which a cached query answers a new one (CODESAGE_SEARCH_CACHE_SIMILARITY; 1 turns it off).
    public let similarity: Double
    private let entries: LRUCache<Key, Entry>
    private let nearDuplicates = Mutex(0)

    /// - Parameters:
    ///   - maxEntries: CODESAGE_SEARCH_CACHE_SIZE (0 disables the cache).
    ///   - similarity: CODESAGE_SEARCH_CACHE_SIMILARITY.
    public init(maxEntries: Int, similarity: Double = 0.97, byteBudget: Int = .max) {
        entries = LRUCache(name: "search", maxEntries: maxEntries, byteBudget: byteBudget)
        self.similarity = similarity
    }

    /// Trims `query` and collapses inner whitespace runs to one space.
    public static func normalise(_ query: String) -> String {
        query.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Answers `request` with `engine` (whose snapshot belongs to `root`), from the cache when it can.
    public func search(_ request: SearchRequest, root: String, engine: SearchEngine) throws(CodeSageError) -> (results: [SearchResult], outcome: Outcome) {
        let key = Key(root: root, generation: engine.snapshot.generation, request: request)
        if let entry = entries.value(forKey: key, countingMiss: false) {
            return (entry.answer.refreshed(root: root), .exact)
        }
        var vector: [Float]?
        if request.mode != .lexical, !key.query.isEmpty, request.limit > 0 {
            vector = try engine.queryVector(key.query)
            var cosine = 0.0
            if let vector, similarity < 1, let found = entries.firstEntry(where: { k, e in
                guard k.sameOptions(key), let v = e.vector else { return false }
                cosine = Self.cosine(v, vector)
                return cosine >= similarity
            }) {
                nearDuplicates.withLock { $0 += 1 }
                return (found.value.answer.refreshed(root: root), .similar(cosine: cosine))
            }
        }
        entries.recordMiss()
        let answer = try engine.answer(request, queryVector: vector)
        let cost = answer.results.reduce(vector.map { $0.count * 4 } ?? 0) {
            $0 + $1.snippet.utf8.count + 2 * $1.path.utf8.count + ($1.symbol?.utf8.count ?? 0) + 96
        } + key.query.utf8.count + root.utf8.count
        entries.insert(Entry(answer: answer, vector: vector), forKey: key, cost: cost)
        return (answer.results, .miss)
    }

    /// Drops the entries of `root` from generations other than `generation` (all of them when nil); returns how many.
    @discardableResult
    public func invalidate(root: String, keeping generation: Int64? = nil) -> Int {
        entries.removeAll { $0.root == root && $0.generation != generation }
    }

    /// Hits that came from a similar rather than the same query.
    public var nearDuplicateHits: Int { nearDuplicates.withLock { $0 } }

    /// Cosine of two vectors (the embeddings are unit length, so their dot product).
    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count else { return -1 }
        var sum: Float = 0
        for i in a.indices { sum += a[i] * b[i] }
        return Double(sum)
    }

    public func statistics() -> CacheStatistics { entries.statistics() }
    public func setByteBudget(_ bytes: Int) { entries.setByteBudget(bytes) }
    public func shrink(toBytes bytes: Int) { entries.shrink(toBytes: bytes) }
    @discardableResult public func removeAll() -> Int { entries.removeAll() }
}
