import CodeSageCore
import IndexStore
import SourceModel
import VectorIndex

/// A pair of chunks whose embeddings are nearly the same.
public struct DuplicatePair: Sendable, Codable, Equatable {
    /// One side of a pair: where the chunk is.
    public struct Side: Sendable, Codable, Equatable {
        public var path: String
        public var startLine: Int
        public var endLine: Int
        public var symbol: String?
    }
    public var first: Side
    public var second: Side
    /// Cosine similarity of the two chunks' embeddings.
    public var similarity: Double
}

extension SearchEngine {
    /// Neighbours examined per chunk.
    static let duplicateNeighbours = 8

    /// Pairs of chunks whose code embeddings have cosine similarity ≥ `threshold`, most similar
    /// first, at most `limit`. Exact (a flat index over every chunk): O(n²) inner products.
    /// A chunk is never paired with itself nor with a chunk whose lines overlap it in the same file
    /// (the parts of one long definition).
    public func duplicates(threshold: Double, limit: Int, filter: PathFilter = PathFilter()) throws(CodeSageError) -> [DuplicatePair] {
        guard (0...1).contains(threshold) else { throw CodeSageError(.invalidArgument, "threshold must be between 0 and 1 (got \(threshold))") }
        guard limit > 0 else { throw CodeSageError(.invalidArgument, "limit must be at least 1 (got \(limit))") }
        guard snapshot.segments != nil else { return [] }
        let generation = snapshot.generation
        let dimension = snapshot.manifest.model.dimension
        let (chunks, stored) = try snapshot.withStore { (store) throws(CodeSageError) in
            (try store.chunks(at: generation), try store.embeddedVectors(at: generation, dimension: dimension, codeOnly: true))
        }
        // Code vectors only (the search index mixes in definition summaries): an exact flat index.
        let vectors = try FaissIndex(dimension: dimension, description: "Flat")
        try vectors.add(stored.matrix)
        let rowIDs = stored.ids
        let byID = Dictionary(uniqueKeysWithValues: chunks.map { ($0.id, $0) })
        var pairs: [(a: Int64, b: Int64, score: Double)] = []
        var seen = Set<[Int64]>()
        let batch = 1_024
        for start in stride(from: 0, to: stored.ids.count, by: batch) {
            let end = min(start + batch, stored.ids.count)
            let queries = Array(stored.matrix[(start * dimension)..<(end * dimension)])
            let hits = try vectors.search(queries, k: Self.duplicateNeighbours + 1)
            for (offset, neighbours) in hits.enumerated() {
                let id = stored.ids[start + offset]
                guard let chunk = byID[id], filter.accepts(path: chunk.path, language: chunk.chunk.language) else { continue }
                for hit in neighbours where rowIDs[Int(hit.id)] != id && Double(hit.score) >= threshold {
                    let otherID = rowIDs[Int(hit.id)]
                    guard let other = byID[otherID], filter.accepts(path: other.path, language: other.chunk.language) else { continue }
                    if other.path == chunk.path && other.chunk.startLine <= chunk.chunk.endLine && chunk.chunk.startLine <= other.chunk.endLine { continue }
                    let key = [min(id, otherID), max(id, otherID)]
                    if seen.insert(key).inserted { pairs.append((key[0], key[1], Double(hit.score))) }
                }
            }
        }
        pairs.sort { $0.score != $1.score ? $0.score > $1.score : ($0.a, $0.b) < ($1.a, $1.b) }
        return pairs.prefix(limit).map { pair in
            DuplicatePair(first: Self.side(byID[pair.a]!), second: Self.side(byID[pair.b]!), similarity: pair.score)
        }
    }

    static func side(_ record: ChunkRecord) -> DuplicatePair.Side {
        DuplicatePair.Side(path: record.path, startLine: record.chunk.startLine, endLine: record.chunk.endLine, symbol: record.chunk.symbol)
    }
}
