import CFaissShim
import CodeSageCore
import Platform

/// The vectors an index gained since its base FAISS file was built, the base ids it lost, and the chunks
/// still waiting for their vectors.
///
/// An update writes a new segment (the previous one's vectors minus what it retires, plus what it
/// adds) and a new manifest, and leaves the base file alone, so memory-mapped readers keep its pages.
/// The file is flat and memory-mapped read-only; search over it is exact. `pending` lists the visible
/// chunks that are not searchable yet (a cold index publishes its lexical part first and embeds after).
///
/// ```
/// offset 0   "CSDELTA1"                       magic (8 bytes)
///        8   dimension          UInt32 LE
///       12   reserved           UInt32 (0)
///       16   vector count  n    UInt64 LE
///       24   tombstone count t  UInt64 LE
///       32   pending count  p   UInt64 LE
///       40   ids                n × Int64 LE   (chunk ids of the vectors, in row order)
///            tombstones         t × Int64 LE   (base ids no longer visible, ascending)
///            pending            p × Int64 LE   (visible chunks without vectors yet, in embedding order)
///            padding to a multiple of 64 bytes
///            vectors            n × dimension × Float32 LE, row-major
/// ```
public final class DeltaSegment: @unchecked Sendable {
    /// The mapping (every segment file has at least its header, so it is never empty).
    private let file: MappedFile
    public let dimension: Int
    /// Chunk ids of the rows, in row order.
    public let ids: UnsafeBufferPointer<Int64>
    /// Base ids that searches leave out, ascending.
    public let tombstones: UnsafeBufferPointer<Int64>
    /// Visible chunks not embedded yet, in the order they are to be embedded.
    public let pending: UnsafeBufferPointer<Int64>
    /// Row-major vectors, `ids.count × dimension`.
    public let vectors: UnsafeBufferPointer<Float>

    static let magic: [UInt8] = Array("CSDELTA1".utf8)
    static let headerBytes = 40

    /// Maps and validates the segment at `path`: `.corruptData` when its header or size do not hold together.
    public init(path: String, dimension: Int) throws(CodeSageError) {
        let file = try MappedFile(path: path)
        func corrupt(_ why: String) -> CodeSageError {
            CodeSageError(.corruptData, "\(path) is not a valid delta segment (\(why)); rebuild with `codesage index --rebuild`")
        }
        guard file.size >= Self.headerBytes else { throw corrupt("\(file.size) bytes, shorter than its header") }
        let base = file.base
        guard Array(UnsafeRawBufferPointer(start: base, count: 8)) == Self.magic else { throw corrupt("wrong magic") }
        let storedDimension = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        guard storedDimension == dimension else { throw corrupt("dimension \(storedDimension), the index has \(dimension)") }
        let count = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let tombstoneCount = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        let pendingCount = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        // Compared before any multiplication can overflow: a damaged count is an error, not a trap.
        let limit = UInt64(file.size)
        guard count <= limit / 8, tombstoneCount <= limit / 8, pendingCount <= limit / 8 else {
            throw corrupt("counts \(count), \(tombstoneCount) and \(pendingCount) exceed the file")
        }
        let layout = Self.layout(count: Int(count), tombstones: Int(tombstoneCount), pending: Int(pendingCount), dimension: dimension)
        guard layout.total == file.size else { throw corrupt("\(file.size) bytes where the header implies \(layout.total)") }
        self.file = file
        self.dimension = dimension
        ids = UnsafeBufferPointer(start: (base + Self.headerBytes).assumingMemoryBound(to: Int64.self), count: Int(count))
        tombstones = UnsafeBufferPointer(start: (base + layout.tombstonesOffset).assumingMemoryBound(to: Int64.self),
                                         count: Int(tombstoneCount))
        pending = UnsafeBufferPointer(start: (base + layout.pendingOffset).assumingMemoryBound(to: Int64.self), count: Int(pendingCount))
        vectors = UnsafeBufferPointer(start: (base + layout.vectorsOffset).assumingMemoryBound(to: Float.self),
                                      count: Int(count) * dimension)
    }

    /// Number of vectors.
    public var count: Int { ids.count }
    /// Size of the file in bytes.
    public var bytes: Int { file.size }
    /// The file's path.
    public var path: String { file.path }

    /// Byte offsets of the parts of a segment.
    static func layout(count: Int, tombstones: Int, pending: Int, dimension: Int)
        -> (tombstonesOffset: Int, pendingOffset: Int, vectorsOffset: Int, total: Int) {
        let tombstonesOffset = headerBytes + count * 8
        let pendingOffset = tombstonesOffset + tombstones * 8
        let vectorsOffset = (pendingOffset + pending * 8 + 63) / 64 * 64
        return (tombstonesOffset, pendingOffset, vectorsOffset, vectorsOffset + count * dimension * 4)
    }

    /// The bytes of a segment (little-endian hosts only, as FAISS files are).
    public static func encode(ids: [Int64], vectors: [Float], tombstones: [Int64], pending: [Int64] = [],
                              dimension: Int) throws(CodeSageError) -> [UInt8] {
        guard dimension > 0, vectors.count == ids.count * dimension else {
            throw CodeSageError(.invalidArgument, "delta segment: \(ids.count) ids but \(vectors.count) floats of dimension \(dimension)")
        }
        let layout = layout(count: ids.count, tombstones: tombstones.count, pending: pending.count, dimension: dimension)
        var bytes = [UInt8](repeating: 0, count: layout.total)
        bytes.withUnsafeMutableBytes { raw in
            raw.copyBytes(from: magic)
            raw.storeBytes(of: UInt32(dimension).littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt64(ids.count).littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: UInt64(tombstones.count).littleEndian, toByteOffset: 24, as: UInt64.self)
            raw.storeBytes(of: UInt64(pending.count).littleEndian, toByteOffset: 32, as: UInt64.self)
            ids.withUnsafeBytes { raw.baseAddress!.advanced(by: headerBytes).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            tombstones.sorted().withUnsafeBytes { t in
                if t.count > 0 { raw.baseAddress!.advanced(by: layout.tombstonesOffset).copyMemory(from: t.baseAddress!, byteCount: t.count) }
            }
            pending.withUnsafeBytes { p in
                if p.count > 0 { raw.baseAddress!.advanced(by: layout.pendingOffset).copyMemory(from: p.baseAddress!, byteCount: p.count) }
            }
            vectors.withUnsafeBytes { v in
                if v.count > 0 { raw.baseAddress!.advanced(by: layout.vectorsOffset).copyMemory(from: v.baseAddress!, byteCount: v.count) }
            }
        }
        return bytes
    }

    /// Writes a segment durably (temporary name, fsync, rename, fsync of the folder).
    public static func write(ids: [Int64], vectors: [Float], tombstones: [Int64], pending: [Int64] = [], dimension: Int,
                             to path: String) throws(CodeSageError) {
        try FileSystem.writeDurably(try encode(ids: ids, vectors: vectors, tombstones: tombstones, pending: pending, dimension: dimension), to: path)
    }

    /// The exact inner-product top `k` of `query`, best first (FAISS's SIMD kernel over the mapping).
    public func search(_ query: [Float], k: Int) throws(CodeSageError) -> [FaissIndex.Hit] {
        guard query.count == dimension else {
            throw CodeSageError(.invalidArgument, "delta search: query has \(query.count) floats, the segment \(dimension)")
        }
        guard k > 0 else { throw CodeSageError(.invalidArgument, "delta search: k must be > 0, got \(k)") }
        guard count > 0 else { return [] }
        let k = min(k, count)
        var scores = [Float](repeating: 0, count: k)
        var rows = [Int64](repeating: -1, count: k)
        let status = query.withUnsafeBufferPointer { q in
            fs_flat_search(vectors.baseAddress, Int64(count), Int32(dimension), q.baseAddress, 1, Int64(k), &scores, &rows)
        }
        guard status == Int32(FS_OK.rawValue) else {
            throw CodeSageError(.native, "FAISS flat search of \(path) failed: \(String(cString: fs_last_error()))")
        }
        return zip(rows, scores).compactMap { row, score in row < 0 ? nil : FaissIndex.Hit(id: ids[Int(row)], score: score) }
    }
}
