import Buffers
import CFaissShim
import CodeSageCore

/// Ids a base-index search leaves out: FAISS's `IDSelectorNot(IDSelectorBatch)`, built once per
/// generation and shared by every search of it (FAISS only reads it).
public final class ExcludedIDs: @unchecked Sendable {
    let handle: OpaquePointer
    /// How many ids are left out.
    public let count: Int

    public init<C: Collection>(_ ids: C) throws(CodeSageError) where C.Element == Int64 {
        let array = Array(ids)
        var handle: OpaquePointer?
        let status = array.withUnsafeBufferPointer { fs_selector_excluding($0.baseAddress, Int64($0.count), &handle) }
        guard status == Int32(FS_OK.rawValue), let handle else {
            throw CodeSageError(.native, "FAISS selector of \(array.count) ids failed: \(String(cString: fs_last_error()))")
        }
        self.handle = handle
        count = array.count
    }

    deinit { fs_selector_free(handle) }
}

/// The vectors of one generation: a base FAISS index (approximate or exact, memory-mapped or not)
/// minus its tombstones, plus an exact delta segment; searches merge both by score.
public final class SegmentedVectors: Sendable {
    /// The base index; nil when every vector of the generation is in the delta.
    public let base: FaissIndex?
    /// What changed since the base was built; nil right after a full build or compaction.
    public let delta: DeltaSegment?
    /// The delta's tombstones as a FAISS selector (nil without tombstones).
    let excluded: ExcludedIDs?

    public init(base: FaissIndex?, delta: DeltaSegment?) throws(CodeSageError) {
        self.base = base
        self.delta = delta
        if let delta, !delta.tombstones.isEmpty { excluded = try ExcludedIDs(delta.tombstones) } else { excluded = nil }
    }

    /// Vectors a search can return: the base's minus its tombstones, plus the delta's.
    public var count: Int { (base?.count ?? 0) - (delta?.tombstones.count ?? 0) + (delta?.count ?? 0) }

    /// The `k` best hits of one query (`dimension` floats), best first.
    public func search(_ query: [Float], k: Int, pool: BufferPool? = nil) throws(CodeSageError) -> [FaissIndex.Hit] {
        let fromBase = try base?.search(query, k: k, excluding: excluded, pool: pool).first ?? []
        guard let delta, delta.count > 0 else { return fromBase }
        let fromDelta = try delta.search(query, k: k)
        return Self.merge(fromBase, fromDelta, k: k)
    }

    /// The best `k` of two lists that are each sorted best first (ties: the first list's hit first).
    static func merge(_ a: [FaissIndex.Hit], _ b: [FaissIndex.Hit], k: Int) -> [FaissIndex.Hit] {
        var merged: [FaissIndex.Hit] = []
        merged.reserveCapacity(min(k, a.count + b.count))
        var i = 0, j = 0
        while merged.count < k, i < a.count || j < b.count {
            if j >= b.count || (i < a.count && a[i].score >= b[j].score) { merged.append(a[i]); i += 1 } else { merged.append(b[j]); j += 1 }
        }
        return merged
    }
}
