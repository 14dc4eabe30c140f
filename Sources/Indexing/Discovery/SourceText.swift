import CodeSageCore
import Platform

/// Loading a discovered file's content for indexing.
public enum SourceText {
    /// What a file turned out to hold.
    public enum Loaded: Sendable, Equatable {
        /// Text: decoded as UTF-8 (invalid sequences become U+FFFD, a leading byte order mark is
        /// dropped), and `bytes`, the file's bytes exactly as stored (for content hashes).
        case text(String, bytes: [UInt8])
        /// A NUL byte occurs in the first `binarySniffLength` bytes (git's heuristic).
        case binary
        /// Larger than the `maxSize` given to `load`.
        case tooLarge
    }

    /// How many leading bytes are searched for a NUL to call a file binary (git's `FIRST_FEW_BYTES`).
    public static let binarySniffLength = 8_000

    /// Reads the file; `.binary` when a NUL byte occurs in the first 8,000 bytes (git's heuristic);
    /// `.tooLarge` when over maxSize; text is decoded as UTF-8 with invalid sequences replaced by
    /// U+FFFD (never fails on bad UTF-8); a UTF-8 BOM is dropped.
    /// Throws `.notFound` when the file is missing and `.io` when it cannot be read.
    public static func load(path: String, maxSize: Int64) throws(CodeSageError) -> Loaded {
        // The size check comes first so that a huge file is never read; the second check catches a file
        // that grew in between.
        if try FileSystem.status(of: path, followingLinks: true).size > maxSize { return .tooLarge }
        let bytes = try FileSystem.readFile(path)
        return classify(bytes, maxSize: maxSize)
    }

    /// Classifies bytes already read: too large, binary, or text.
    public static func classify(_ bytes: [UInt8], maxSize: Int64) -> Loaded {
        if Int64(bytes.count) > maxSize { return .tooLarge }
        if bytes.prefix(binarySniffLength).contains(0) { return .binary }
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes[3...] : bytes[...]
        return .text(String(decoding: body, as: UTF8.self), bytes: bytes)
    }
}
