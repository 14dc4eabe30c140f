import CFaissShim
import Buffers
import CodeSageCore
import Platform

/// A FAISS index (inner-product metric) owned by Swift: the handle is freed in `deinit`.
///
/// FAISS allows concurrent `search` on a const index but not concurrent `train`/`add`;
/// callers that mutate must not search at the same time (the indexer builds, then publishes).
public final class FaissIndex: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Vector dimension.
    public let dimension: Int

    private init(handle: OpaquePointer) throws(CodeSageError) {
        self.handle = handle
        var dimension: Int32 = 0
        try FaissIndex.check(fs_index_dimension(handle, &dimension), "dimension")
        self.dimension = Int(dimension)
    }

    deinit { fs_index_free(handle) }

    /// Creates an empty index from an index_factory description such as `IVF1,Flat` or `IVF256,SQ8`.
    public convenience init(dimension: Int, description: String) throws(CodeSageError) {
        var handle: OpaquePointer?
        try FaissIndex.check(fs_index_factory(Int32(dimension), description, &handle), "create \(description)")
        try self.init(handle: handle!)
    }

    /// Reads an index file; with `memoryMapped`, an IVF index's lists stay in the page cache, shared between processes,
    /// and no prefetch threads are started per search.
    public static func read(path: String, memoryMapped: Bool) throws(CodeSageError) -> FaissIndex {
        var handle: OpaquePointer?
        let flags = memoryMapped ? FS_READ_MMAP : FS_READ_IN_MEMORY
        try check(fs_index_read(path, Int32(flags.rawValue), &handle), "read \(path)", corruptOnFailure: true)
        let index = try FaissIndex(handle: handle!)
        if index.isMemoryMapped {
            try check(fs_index_set_prefetch_threads(handle, 0), "disable prefetch threads")
        }
        return index
    }

    /// Number of vectors stored.
    public var count: Int {
        var total: Int64 = 0
        _ = fs_index_ntotal(handle, &total)
        return Int(total)
    }

    /// Whether the index has been trained (IVF needs training before `add`).
    public var isTrained: Bool {
        var trained: Int32 = 0
        _ = fs_index_is_trained(handle, &trained)
        return trained != 0
    }

    /// Whether the inverted lists are memory-mapped from the file.
    public var isMemoryMapped: Bool {
        var mapped: Int32 = 0
        _ = fs_index_is_memory_mapped(handle, &mapped)
        return mapped != 0
    }

    /// Trains on `vectors`, a row-major [n, dimension] matrix.
    public func train(_ vectors: [Float]) throws(CodeSageError) {
        let n = try rows(in: vectors)
        try vectors.withUnsafeBufferPointer { (buffer) throws(CodeSageError) in
            try FaissIndex.check(fs_index_train(handle, Int64(n), buffer.baseAddress), "train")
        }
    }

    /// Adds `vectors` ([n, dimension], row-major) with ids count ..< count + n.
    public func add(_ vectors: [Float]) throws(CodeSageError) {
        let n = try rows(in: vectors)
        try vectors.withUnsafeBufferPointer { (buffer) throws(CodeSageError) in
            try FaissIndex.check(fs_index_add(handle, Int64(n), buffer.baseAddress), "add")
        }
    }

    /// Adds `vectors` ([n, dimension]) with explicit ids (IVF indexes only).
    public func add(_ vectors: [Float], ids: [Int64]) throws(CodeSageError) {
        let n = try rows(in: vectors)
        guard ids.count == n else { throw CodeSageError(.invalidArgument, "add: \(n) vectors but \(ids.count) ids") }
        try vectors.withUnsafeBufferPointer { (buffer) throws(CodeSageError) in
            try ids.withUnsafeBufferPointer { (idBuffer) throws(CodeSageError) in
                try FaissIndex.check(fs_index_add_with_ids(handle, Int64(n), buffer.baseAddress, idBuffer.baseAddress), "add_with_ids")
            }
        }
    }

    /// Touches every page of a memory-mapped index's file so it is resident and mapped here before the
    /// first search (pages already in the page cache are shared, not copied). Returns the bytes covered;
    /// 0 for an index in memory.
    @discardableResult
    public func prefault() throws(CodeSageError) -> Int {
        var bytes: UInt64 = 0
        try FaissIndex.check(fs_index_prefault(handle, &bytes), "prefault")
        return Int(bytes)
    }

    /// Sets how many inverted lists a search visits (IVF only).
    public func setProbeCount(_ nprobe: Int) throws(CodeSageError) {
        try FaissIndex.check(fs_index_set_nprobe(handle, Int64(nprobe)), "set nprobe \(nprobe)")
    }

    /// One hit: the stored id and its inner product with the query.
    public struct Hit: Sendable, Equatable {
        public let id: Int64
        public let score: Float
    }

    /// Searches `queries` ([n, dimension]) for the `k` best hits each, best first; empty slots are left out.
    /// Ids in `excluded` are skipped by the lists' scanners (so up to `k` others still come back).
    public func search(_ queries: [Float], k: Int, excluding excluded: ExcludedIDs? = nil, pool: BufferPool? = nil) throws(CodeSageError) -> [[Hit]] {
        let n = try rows(in: queries)
        guard k > 0 else { throw CodeSageError(.invalidArgument, "search: k must be > 0, got \(k)") }
        guard n > 0 else { return [] }
        // Scores and labels in one buffer: from the pool when given, so steady searches allocate nothing large.
        let bytes = n * k * (MemoryLayout<Float>.stride + MemoryLayout<Int64>.stride)
        func run(_ raw: UnsafeMutableRawBufferPointer) throws(CodeSageError) -> [[Hit]] {
            let labels = raw.baseAddress!.bindMemory(to: Int64.self, capacity: n * k)
            let scores = (raw.baseAddress! + n * k * MemoryLayout<Int64>.stride).bindMemory(to: Float.self, capacity: n * k)
            for i in 0..<(n * k) { labels[i] = -1; scores[i] = 0 }
            try queries.withUnsafeBufferPointer { (buffer) throws(CodeSageError) in
                try FaissIndex.check(fs_index_search_excluding(handle, Int64(n), buffer.baseAddress, Int64(k), excluded?.handle, scores, labels), "search")
            }
            return (0..<n).map { row in
                (0..<k).compactMap { column in
                    let slot = row * k + column
                    return labels[slot] < 0 ? nil : Hit(id: labels[slot], score: scores[slot])
                }
            }
        }
        if let pool { return try pool.withBuffer(bytes: bytes, run) }
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        defer { raw.deallocate() }
        return try run(raw)
    }

    /// Writes the index durably: the shim writes a temporary file, `FileSystem.writeDurably` makes it
    /// durable and renames it over `path`.
    public func write(to path: String) throws(CodeSageError) {
        try FileSystem.writeDurably(to: path) { (temporary) throws(CodeSageError) in
            try FaissIndex.check(fs_index_write(handle, temporary), "write \(path)")
        }
    }

    /// Sets the query count from which FAISS switches to BLAS for exact distances (1 = always).
    public static func setBLASThreshold(_ threshold: Int) { fs_set_blas_threshold(Int32(threshold)) }

    /// Sets the OpenMP thread count for FAISS calls made from the calling thread.
    public static func setOpenMPThreads(_ threads: Int) { fs_set_omp_threads(Int32(threads)) }

    private func rows(in matrix: [Float]) throws(CodeSageError) -> Int {
        guard matrix.count % dimension == 0 else {
            throw CodeSageError(.invalidArgument, "matrix of \(matrix.count) floats is not a whole number of \(dimension)-d rows")
        }
        return matrix.count / dimension
    }

    private static func check(_ status: Int32, _ operation: String, corruptOnFailure: Bool = false) throws(CodeSageError) {
        guard status != Int32(FS_OK.rawValue) else { return }
        let detail = String(cString: fs_last_error())
        let code: CodeSageError.Code
        switch UInt32(status) {
        case FS_ERR_INVALID_ARGUMENT.rawValue: code = .invalidArgument
        case FS_ERR_IO.rawValue: code = .io
        case FS_ERR_UNSUPPORTED.rawValue: code = .unavailable
        case FS_ERR_CORRUPT.rawValue: code = .corruptData
        default: code = corruptOnFailure ? .corruptData : .native
        }
        throw CodeSageError(code, "FAISS \(operation) failed: \(detail)")
    }
}
