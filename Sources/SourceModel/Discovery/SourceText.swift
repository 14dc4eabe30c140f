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
    /// `.tooLarge` when over maxSize (never read past it); text is decoded as UTF-8 with invalid sequences
    /// replaced by U+FFFD (never fails on bad UTF-8); a UTF-8 BOM is dropped.
    ///
    /// The path is resolved first (a link inside the root is read through); with `root`, a path
    /// that leads outside it is refused. The file itself is opened without following a link and must be a
    /// regular file: one swapped for a link, a FIFO or a device since discovery saw it is refused, not read.
    /// Throws `.notFound` when the file vanished, `.invalidArgument` when it is not (or no longer) a regular
    /// file inside the root, `.io` when it cannot be read.
    public static func load(path: String, maxSize: Int64, root: String? = nil) throws(CodeSageError) -> Loaded {
        let real = try FileSystem.realPath(resolving: path)
        if let root, case let base = (try? FileSystem.realPath(resolving: root)) ?? root,
           real != base, !real.hasPrefix(base.hasSuffix("/") ? base : base + "/") {
            throw CodeSageError(.invalidArgument, "\(path) leads outside the root (to \(real))")
        }
        guard let bytes = try FileSystem.readRegularFile(real, maxBytes: Int(clamping: maxSize)) else { return .tooLarge }
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
