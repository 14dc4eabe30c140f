import Buffers
import CodeSageCore
import Foundation
import Platform

/// File contents kept in memory, compressed (LZ4 by default), keyed by path and validated
/// against the file's status on every lookup, so an edit is never served stale.
///
/// An entry records the size, modification time, status-change time, device and inode that the
/// file had when it was read; a lookup stats the file and reads it again when any of them differ
/// (a write moves the change time, an atomic replace changes the inode). Files changed within
/// `racyWindow` of being read are not cached at all: a second write inside one timestamp tick
/// could otherwise leave the status unchanged (git's "racily clean" problem).
public final class FileCache: ManagedCache, Sendable {
    /// What a lookup found.
    public enum Contents: Sendable, Equatable {
        /// The file's bytes.
        case bytes([UInt8])
        /// The file is larger than the `maxSize` asked for (it was not read).
        case tooLarge(Int64)
    }

    /// Files whose change time is this close to the moment they were read are not cached (ns).
    public static let racyWindow: Int64 = 50_000_000

    struct Entry: Sendable {
        var status: FileStatus
        var stored: [UInt8]
        var size: Int
    }

    public var name: String { entries.name }
    public let compression: CacheCompression
    public let compressionLevel: Int
    /// Blocks that LZ4 compresses into before the frame is copied out at its exact size (CODESAGE_CACHE_POOL_SIZE).
    public let blockPool: BufferPool?
    private let entries: LRUCache<String, Entry>

    /// - Parameters:
    ///   - maxEntries: CODESAGE_FILE_CACHE_SIZE.
    ///   - compression: CODESAGE_CACHE_COMPRESSION (lz4, zstd at `compressionLevel`, or none).
    ///   - blockPool: scratch for compression; nil allocates per file.
    public init(maxEntries: Int, byteBudget: Int = .max, compression: CacheCompression = .lz4, compressionLevel: Int = 3,
                blockPool: BufferPool? = nil) {
        entries = LRUCache(name: "file", maxEntries: maxEntries, byteBudget: byteBudget)
        self.compression = compression
        self.compressionLevel = compressionLevel
        self.blockPool = blockPool
    }

    /// The contents of the file at `path` (links followed), from memory when the file is unchanged.
    /// Throws `.notFound` for a missing file and `.io` when it cannot be read.
    public func contents(of path: String, maxSize: Int64 = .max) throws(CodeSageError) -> Contents {
        let status = try FileSystem.status(of: path, followingLinks: true)
        if let entry = entries.value(forKey: path, countingMiss: false) {
            if entry.status == status, let bytes = try? decode(entry) {
                return .bytes(bytes)
            }
            entries.removeValue(forKey: path)
        }
        entries.recordMiss()
        if status.size > maxSize { return .tooLarge(status.size) }
        let bytes = try FileSystem.readFile(path)
        if Int64(bytes.count) > maxSize { return .tooLarge(Int64(bytes.count)) }
        // Cache only when the status after reading equals the one before (no write in between)
        // and the file did not change within the racy window.
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        if let after = try? FileSystem.status(of: path, followingLinks: true), after == status,
           Int64(bytes.count) == status.size, now - status.changeTime > Self.racyWindow,
           let stored = try? encode(bytes) {
            entries.insert(Entry(status: status, stored: stored, size: bytes.count), forKey: path,
                           cost: stored.count + path.utf8.count)
        }
        return .bytes(bytes)
    }

    private func encode(_ bytes: [UInt8]) throws(CodeSageError) -> [UInt8] {
        switch compression {
        case .lz4:
            guard let blockPool else { return try LZ4Codec.compress(bytes) }
            return try blockPool.withBuffer(bytes: LZ4Codec.frameBound(bytes.count)) { (block) throws(CodeSageError) in
                let length = try LZ4Codec.compress(bytes, into: block)
                return Array(UnsafeRawBufferPointer(rebasing: block[..<length]))
            }
        case .zstd: return try ZstdCodec.compress(bytes, level: compressionLevel)
        case .none: return bytes
        }
    }

    private func decode(_ entry: Entry) throws(CodeSageError) -> [UInt8] {
        switch compression {
        case .lz4: return try LZ4Codec.decompress(entry.stored)
        case .zstd: return try ZstdCodec.decompress(entry.stored, limit: entry.size)
        case .none: return entry.stored
        }
    }

    public func statistics() -> CacheStatistics { entries.statistics() }
    public func setByteBudget(_ bytes: Int) { entries.setByteBudget(bytes) }
    public func shrink(toBytes bytes: Int) { entries.shrink(toBytes: bytes) }
    @discardableResult public func removeAll() -> Int { entries.removeAll() }
}
