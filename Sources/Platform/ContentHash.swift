import CodeSageCore
import Crypto

/// SHA-256 digests that identify file contents and embedded texts.
public enum ContentHash {
    /// The SHA-256 of `bytes`.
    public static func of(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// The SHA-256 of the bytes in `buffer`, read in place (a memory map, for instance).
    public static func of(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bufferPointer: buffer)
        return Array(hasher.finalize())
    }

    /// The SHA-256 of the file at `path`, read in 1 MiB blocks.
    public static func ofFile(_ path: String) throws(CodeSageError) -> [UInt8] {
        var hasher = SHA256()
        try FileSystem.readBlocks(path, blockBytes: 1 << 20) { hasher.update(bufferPointer: $0) }
        return Array(hasher.finalize())
    }

    /// The SHA-256 of the UTF-8 bytes of `parts` joined by NUL (which no part contains).
    public static func of(parts: String...) -> [UInt8] {
        var hasher = SHA256()
        for (index, part) in parts.enumerated() {
            if index > 0 { hasher.update(data: [0]) }
            hasher.update(data: Array(part.utf8))
        }
        return Array(hasher.finalize())
    }

    /// Lower-case hex of a digest.
    public static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for byte in digest { out.append(digits[Int(byte >> 4)]); out.append(digits[Int(byte & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
