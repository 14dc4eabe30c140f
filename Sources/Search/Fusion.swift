/// Rank fusion of several result lists.
public enum Fusion {
    /// Weighted reciprocal-rank fusion: an id scores Σ weightᵢ / (k + rankᵢ) over the lists that
    /// hold it (rank 1-based). Best first; ties keep the order of first appearance.
    public static func reciprocalRank(_ lists: [[Int64]], weights: [Double], k: Double) -> [(id: Int64, score: Double)] {
        var scores: [Int64: Double] = [:]
        var order: [Int64] = []
        for (list, weight) in zip(lists, weights) {
            for (offset, id) in list.enumerated() {
                if scores[id] == nil { order.append(id) }
                scores[id, default: 0] += weight / (k + Double(offset + 1))
            }
        }
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        return order.map { (id: $0, score: scores[$0]!) }
            .sorted { $0.score != $1.score ? $0.score > $1.score : position[$0.id]! < position[$1.id]! }
    }
}
