import CodeSageCore
#if canImport(Glibc)
import Glibc
#endif

/// An errno value, attached as the `cause` of the errors below so callers can tell failures apart
/// (a dangling link from a link loop, say) without parsing messages.
public struct SystemErrno: Error, Hashable, Sendable, CustomStringConvertible {
    /// The raw errno number.
    public let rawValue: Int32

    /// Wraps a raw errno number.
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// ENOENT: no such file or directory (also a dangling symbolic link).
    public static let noSuchFile = SystemErrno(ENOENT)
    /// ENOTDIR: a component of the path is not a folder.
    public static let notDirectory = SystemErrno(ENOTDIR)
    /// ELOOP: too many symbolic links (a link that points at itself, directly or not).
    public static let tooManySymbolicLinks = SystemErrno(ELOOP)
    /// EACCES: permission denied.
    public static let permissionDenied = SystemErrno(EACCES)

    /// The strerror text with the number, e.g. "No such file or directory (errno 2)".
    public var description: String { SystemCall.errnoText(rawValue) }
}

/// What a path is: a regular file, a folder, a symbolic link, or something else (socket, FIFO, device).
public enum FileKind: Sendable, Hashable {
    /// A regular file.
    case regular
    /// A folder.
    case directory
    /// A symbolic link (only when links are not followed).
    case symlink
    /// A socket, FIFO, block or character device.
    case other
    /// Only in directory entries: the file system gave no type and the fallback `lstat` failed
    /// (the entry vanished or cannot be examined).
    case unknown
}

/// The facts `stat(2)` gives about a path that discovery and incremental indexing need.
public struct FileStatus: Sendable, Hashable {
    /// Size in bytes.
    public var size: Int64
    /// Last modification time in nanoseconds since the epoch (from `st_mtim`).
    public var modificationTime: Int64
    /// The device holding the file (`st_dev`); with `inode` it names the file uniquely.
    public var device: UInt64
    /// The inode number (`st_ino`).
    public var inode: UInt64
    /// What the path is.
    public var kind: FileKind
    /// Last status change in nanoseconds since the epoch (from `st_ctim`): moves on every write,
    /// and unlike the modification time it cannot be set back by `utimes(2)`.
    public var changeTime: Int64

    /// Creates a status from its parts.
    public init(size: Int64, modificationTime: Int64, device: UInt64, inode: UInt64, kind: FileKind, changeTime: Int64 = 0) {
        self.size = size
        self.modificationTime = modificationTime
        self.device = device
        self.inode = inode
        self.kind = kind
        self.changeTime = changeTime
    }
}

/// One entry of a folder, as `readdir(3)` reports it (never "." or "..").
public struct DirectoryEntry: Sendable, Hashable {
    /// The entry's name; names that are not valid UTF-8 have invalid bytes replaced by U+FFFD
    /// (see `nameIsValidUTF8`), so such a name cannot be used to open the entry.
    public var name: String
    /// What the entry is, from `d_type` (links are not followed); `lstat` when `d_type` is `DT_UNKNOWN`.
    public var kind: FileKind
    /// Whether `name` is the entry's exact name (false when its bytes were not valid UTF-8).
    public var nameIsValidUTF8: Bool

    /// Creates an entry from its parts.
    public init(name: String, kind: FileKind, nameIsValidUTF8: Bool = true) {
        self.name = name
        self.kind = kind
        self.nameIsValidUTF8 = nameIsValidUTF8
    }
}

extension FileSystem {
    /// The entries of the folder at `path` in the order `readdir` gives them, without "." and "..".
    /// Throws `.notFound` when the folder does not exist, `.io` when it cannot be read
    /// (the errno is the error's `cause`, a `SystemErrno`).
    public static func listDirectory(_ path: String) throws(CodeSageError) -> [DirectoryEntry] {
        guard let stream = opendir(path) else {
            throw failure(errno, "cannot open folder \(path)")
        }
        defer { closedir(stream) }
        var entries: [DirectoryEntry] = []
        while true {
            errno = 0
            guard let record = readdir(stream) else {
                let code = errno
                if code != 0 { throw failure(code, "cannot read folder \(path)") }
                return entries
            }
            let type = record.pointee.d_type
            let (name, valid): (String, Bool) = withUnsafePointer(to: &record.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) { raw in
                    if let exact = String(validatingCString: raw) { return (exact, true) }
                    return (String(cString: raw), false)
                }
            }
            if name == "." || name == ".." { continue }
            let kind: FileKind
            switch Int(type) {
            case Int(DT_REG): kind = .regular
            case Int(DT_DIR): kind = .directory
            case Int(DT_LNK): kind = .symlink
            case Int(DT_UNKNOWN):
                var info = stat()
                let child = path.hasSuffix("/") ? path + name : path + "/" + name
                kind = valid && lstat(child, &info) == 0 ? fileKind(mode: info.st_mode) : .unknown
            default: kind = .other
            }
            entries.append(DirectoryEntry(name: name, kind: kind, nameIsValidUTF8: valid))
        }
    }

    /// The status of `path`: `stat(2)` when `followingLinks`, else `lstat(2)` (a link is then `.symlink`).
    /// Throws `.notFound` for a missing path (or, following links, a dangling link), `.io` otherwise;
    /// the errno is the error's `cause`, a `SystemErrno` (ELOOP for a link loop).
    public static func status(of path: String, followingLinks: Bool) throws(CodeSageError) -> FileStatus {
        var info = stat()
        let result = followingLinks ? stat(path, &info) : lstat(path, &info)
        if result != 0 { throw failure(errno, "cannot stat \(path)") }
        return FileStatus(
            size: Int64(info.st_size),
            modificationTime: Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec),
            device: UInt64(info.st_dev),
            inode: UInt64(info.st_ino),
            kind: fileKind(mode: info.st_mode),
            changeTime: Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
        )
    }

    /// The absolute path of `path` with every symbolic link, "." and ".." resolved (`realpath(3)`).
    /// Throws `.notFound` when a component is missing (including a dangling link), `.io` otherwise;
    /// the errno is the error's `cause`, a `SystemErrno`.
    public static func realPath(resolving path: String) throws(CodeSageError) -> String {
        guard let resolved = realpath(path, nil) else {
            throw failure(errno, "cannot resolve \(path)")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The kind encoded in an `st_mode`.
    private static func fileKind(mode: mode_t) -> FileKind {
        switch mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symlink
        default: .other
        }
    }

    /// An error for a failed call: `.notFound` for ENOENT and ENOTDIR, `.io` otherwise, with the errno as cause.
    private static func failure(_ code: Int32, _ what: String) -> CodeSageError {
        let kind: CodeSageError.Code = code == ENOENT || code == ENOTDIR ? .notFound : .io
        return CodeSageError(kind, "\(what): \(SystemCall.errnoText(code))", cause: SystemErrno(code))
    }
}
