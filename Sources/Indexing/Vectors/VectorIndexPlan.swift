import IndexStore
import SourceModel
import CodeSageCore

/// Which FAISS index to build for a corpus, and why.
///
/// Always IVF (FAISS 1.7.3 memory-maps only inverted lists). Exact search (`IVF1,Flat`) while the
/// corpus is small; more lists as it grows, so a search visits a fraction of it; scalar (SQ8, 4×
/// smaller) or product quantization (PQ, 16–32× smaller) when compression is asked for or when
/// flat codes would not fit the target memory.
public struct VectorIndexPlan: Sendable, Equatable {
    /// Code kind of the inverted lists.
    public enum Codes: String, Sendable { case flat, sq8, pq }

    public var codes: Codes
    public var nlist: Int
    /// PQ sub-quantizers (bytes per vector) when `codes == .pq`.
    public var pqBytes: Int
    /// Why this plan was chosen (shown in the manifest).
    public var reason: String

    /// The FAISS index_factory description.
    public var factory: String {
        switch codes {
        case .flat: "IVF\(nlist),Flat"
        case .sq8: "IVF\(nlist),SQ8"
        case .pq: "IVF\(nlist),PQ\(pqBytes)"
        }
    }

    /// Whether search is exact (one list, uncompressed).
    public var isExact: Bool { codes == .flat && nlist == 1 }

    /// Bytes of the codes and ids of `count` vectors of `dimension` (the index's memory, lists only).
    public static func bytes(codes: Codes, count: Int, dimension: Int, pqBytes: Int) -> Int {
        let perVector: Int
        switch codes {
        case .flat: perVector = dimension * 4
        case .sq8: perVector = dimension
        case .pq: perVector = pqBytes
        }
        return count * (perVector + 8)
    }

    /// Corpora below this size are searched exactly (one list).
    public static let exactLimit = 20_000

    /// The plan for `count` vectors of `dimension` under the compression settings.
    public static func choose(count: Int, dimension: Int, compression: IndexCompression, type: IndexCompressionType,
                              targetMemoryBytes: UInt64) -> VectorIndexPlan {
        let nlist = listCount(for: count)
        let target = Int(clamping: targetMemoryBytes)
        let pqBytes = pqCodeBytes(dimension: dimension)
        let pqPossible = count >= 4 * 256 && pqBytes > 0  // PQ trains 256 centroids per sub-quantizer
        func fits(_ codes: Codes) -> Bool { bytes(codes: codes, count: count, dimension: dimension, pqBytes: pqBytes) <= target }

        switch compression {
        case .false:
            return VectorIndexPlan(codes: .flat, nlist: nlist, pqBytes: 0, reason: "compression off: flat codes")
        case .auto, .zstd:
            if fits(.flat) { return VectorIndexPlan(codes: .flat, nlist: nlist, pqBytes: 0, reason: "flat codes fit the target memory") }
            if fits(.sq8) || !pqPossible {
                return VectorIndexPlan(codes: .sq8, nlist: nlist, pqBytes: 0, reason: "flat codes exceed the target memory; SQ8 \(fits(.sq8) ? "fits" : "is the smallest trainable")")
            }
            return VectorIndexPlan(codes: .pq, nlist: nlist, pqBytes: pqBytes, reason: "flat and SQ8 codes exceed the target memory")
        case .true:
            switch type {
            case .flat:
                return VectorIndexPlan(codes: .flat, nlist: nlist, pqBytes: 0, reason: "CODESAGE_INDEX_COMPRESSION_TYPE=flat")
            case .sq8:
                return VectorIndexPlan(codes: .sq8, nlist: nlist, pqBytes: 0, reason: "CODESAGE_INDEX_COMPRESSION_TYPE=sq8")
            case .pq, .ivfpq:
                if pqPossible { return VectorIndexPlan(codes: .pq, nlist: nlist, pqBytes: pqBytes, reason: "CODESAGE_INDEX_COMPRESSION_TYPE=\(type.rawValue)") }
                return VectorIndexPlan(codes: .sq8, nlist: nlist, pqBytes: 0, reason: "PQ needs at least 1,024 vectors to train; SQ8 instead")
            case .auto:
                if fits(.sq8) || !pqPossible { return VectorIndexPlan(codes: .sq8, nlist: nlist, pqBytes: 0, reason: "compression on: SQ8 (fits the target memory)") }
                return VectorIndexPlan(codes: .pq, nlist: nlist, pqBytes: pqBytes, reason: "compression on: SQ8 exceeds the target memory, PQ")
            }
        }
    }

    /// Inverted lists: 1 (exact) below `exactLimit`, else about 4·√n (FAISS's guidance), a power of
    /// two, with at least 39 training vectors per list.
    static func listCount(for count: Int) -> Int {
        guard count >= exactLimit else { return 1 }
        var lists = 1
        while lists * 2 <= Int(4 * Double(count).squareRoot()) && lists * 2 * 39 <= count { lists *= 2 }
        return lists
    }

    /// PQ bytes per vector: dimension / 8 sub-quantizers of 8 bits (48 for 384), or 0 when the
    /// dimension is not divisible.
    static func pqCodeBytes(dimension: Int) -> Int {
        dimension % 8 == 0 ? dimension / 8 : 0
    }
}
