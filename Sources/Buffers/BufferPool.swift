import Synchronization

/// Counters of a `BufferPool`.
public struct PoolStatistics: Sendable, Equatable, Encodable {
    /// The pool's name ("embedding", "index", "cache").
    public var name: String
    /// Idle buffers kept at most (CODESAGE_*_POOL_SIZE).
    public var capacity = 0
    /// Bytes of each preallocated buffer.
    public var bufferBytes = 0
    /// Buffers idle in the pool now, and their bytes.
    public var idle = 0
    public var idleBytes = 0
    /// Buffers lent out now.
    public var inUse = 0
    /// Loans served by an idle buffer (no allocation).
    public var reuses = 0
    /// Loans that had to allocate (pool empty, or every idle buffer too small).
    public var allocations = 0
    /// Bytes freed by `releaseIdle()` over the pool's life.
    public var releasedBytes = 0
    /// Loans larger than this are allocated and freed each time, never kept idle.
    public var maxRetainedBytes = 0
}

/// Preallocated, reusable byte buffers: a steady stream of same-shape work borrows and returns the
/// same memory instead of allocating, so it neither grows the heap nor fragments it.
///
/// `capacity` buffers of `bufferBytes` are allocated up front. A loan takes the smallest idle
/// buffer that is large enough; when none is, it allocates one of the size asked for, and the
/// pool keeps it on return (up to `capacity` idle buffers, each at most `maxRetainedBytes`), so the
/// pool grows to the working size once. `releaseIdle()` frees idle buffers beyond the preallocated
/// size (memory cleanup).
public final class BufferPool: Sendable {
    public let name: String
    private let state: Mutex<State>

    struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let bytes: Int
    }

    struct State: ~Copyable {
        var idle: [Buffer] = []
        var stats: PoolStatistics
        init(name: String) { stats = PoolStatistics(name: name) }
    }

    /// Preallocates `capacity` buffers of `bufferBytes` each; loans over `maxRetainedBytes` (default:
    /// unbounded) are not kept when returned.
    public init(name: String, capacity: Int, bufferBytes: Int, maxRetainedBytes: Int = .max) {
        self.name = name
        var s = State(name: name)
        s.stats.capacity = max(0, capacity)
        s.stats.bufferBytes = max(0, bufferBytes)
        s.stats.maxRetainedBytes = max(bufferBytes, maxRetainedBytes)
        if bufferBytes > 0 {
            for _ in 0..<max(0, capacity) { s.idle.append(Self.allocate(bufferBytes)) }
        }
        state = Mutex(s)
    }

    deinit {
        state.withLock { s in for b in s.idle { b.pointer.deallocate() } }
    }

    private static func allocate(_ bytes: Int) -> Buffer {
        Buffer(pointer: .allocate(byteCount: max(bytes, 1), alignment: 64), bytes: bytes)
    }

    /// Runs `body` with a buffer of at least `bytes` bytes (64-byte aligned, contents undefined),
    /// borrowed from the pool and returned to it afterwards.
    public func withBuffer<T, E: Error>(bytes: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let buffer = borrow(bytes)
        defer { giveBack(buffer) }
        return try body(UnsafeMutableRawBufferPointer(start: buffer.pointer, count: buffer.bytes))
    }

    private func borrow(_ bytes: Int) -> Buffer {
        state.withLock { s in
            s.stats.inUse += 1
            var best: Int?
            for (i, b) in s.idle.enumerated() where b.bytes >= bytes {
                if best == nil || b.bytes < s.idle[best!].bytes { best = i }
            }
            if let best {
                s.stats.reuses += 1
                return s.idle.remove(at: best)
            }
            s.stats.allocations += 1
            // Replace the smallest idle buffer (too small for this shape) rather than keeping both.
            if bytes <= s.stats.maxRetainedBytes, let smallest = s.idle.indices.min(by: { s.idle[$0].bytes < s.idle[$1].bytes }), s.idle.count >= s.stats.capacity {
                s.idle.remove(at: smallest).pointer.deallocate()
            }
            return Self.allocate(max(bytes, s.stats.bufferBytes))
        }
    }

    private func giveBack(_ buffer: Buffer) {
        let surplus: Buffer? = state.withLock { s in
            s.stats.inUse -= 1
            guard s.idle.count < s.stats.capacity, buffer.bytes <= s.stats.maxRetainedBytes else { return buffer }
            s.idle.append(buffer)
            return nil
        }
        surplus?.pointer.deallocate()
    }

    /// Frees idle buffers larger than the preallocated size (they are allocated again if the
    /// shape returns); returns the bytes freed.
    @discardableResult
    public func releaseIdle() -> Int {
        let freed: [Buffer] = state.withLock { s in
            let base = s.stats.bufferBytes
            let large = s.idle.filter { $0.bytes > base }
            s.idle.removeAll { $0.bytes > base }
            s.stats.releasedBytes += large.reduce(0) { $0 + $1.bytes }
            return large
        }
        for b in freed { b.pointer.deallocate() }
        return freed.reduce(0) { $0 + $1.bytes }
    }

    /// Current counters.
    public func statistics() -> PoolStatistics {
        state.withLock { s in
            var stats = s.stats
            stats.idle = s.idle.count
            stats.idleBytes = s.idle.reduce(0) { $0 + $1.bytes }
            return stats
        }
    }
}
