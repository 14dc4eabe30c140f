import IndexStore
import SourceModel
import CodeSageCore
import VectorIndex

/// Builds the FAISS file of a generation and measures its recall against exact search.
public enum VectorIndexBuilder {
    /// What was built.
    public struct Built: Sendable {
        public var plan: VectorIndexPlan
        public var nprobe: Int
        public var recallAt10: Double
        public var recallSample: Int
    }

    /// Recall@10 the build aims for when it picks nprobe.
    public static let targetRecall = 0.95

    /// Builds an index of `matrix` ([ids.count, dimension]) with `ids` as FAISS ids, picks the
    /// smallest nprobe (1, 2, 4, … nlist) whose measured recall@10 reaches `targetRecall`, and
    /// writes it durably to `path`.
    public static func build(ids: [Int64], matrix: [Float], dimension: Int, plan: VectorIndexPlan,
                             to path: String) throws(CodeSageError) -> Built {
        let index = try FaissIndex(dimension: dimension, description: plan.factory)
        try index.train(matrix)
        try index.add(matrix, ids: ids)

        let sample = sampleRows(count: ids.count, limit: 256)
        let queries = sample.flatMap { row in matrix[(row * dimension)..<((row + 1) * dimension)] }
        let exact = try exactTop10(matrix: matrix, dimension: dimension, queries: queries)

        var nprobe = 1
        var recall = 0.0
        while true {
            try index.setProbeCount(nprobe)
            let approximate = try index.search(queries, k: 10).map { $0.map { Int64($0.id) } }
            recall = recallAt10(exact: exact, approximate: approximate, ids: ids)
            if recall >= targetRecall || nprobe >= plan.nlist { break }
            nprobe = min(plan.nlist, nprobe * 2)
        }
        try index.write(to: path)
        return Built(plan: plan, nprobe: nprobe, recallAt10: recall, recallSample: sample.count)
    }

    /// Up to `limit` row numbers spread evenly over `count` rows.
    public static func sampleRows(count: Int, limit: Int) -> [Int] {
        guard count > limit else { return Array(0..<count) }
        return (0..<limit).map { $0 * count / limit }
    }

    /// Exact top-10 row numbers per query, by a flat inner-product index over the same vectors.
    public static func exactTop10(matrix: [Float], dimension: Int, queries: [Float]) throws(CodeSageError) -> [[Int64]] {
        let flat = try FaissIndex(dimension: dimension, description: "Flat")
        try flat.add(matrix)
        return try flat.search(queries, k: 10).map { $0.map(\.id) }
    }

    /// Mean fraction of the exact top 10 (row numbers) that the approximate top 10 (ids) found.
    public static func recallAt10(exact: [[Int64]], approximate: [[Int64]], ids: [Int64]) -> Double {
        guard !exact.isEmpty else { return 1 }
        var total = 0.0
        for (truth, found) in zip(exact, approximate) {
            let truthIDs = Set(truth.map { ids[Int($0)] })
            guard !truthIDs.isEmpty else { total += 1; continue }
            total += Double(truthIDs.intersection(found).count) / Double(truthIDs.count)
        }
        return total / Double(exact.count)
    }
}
