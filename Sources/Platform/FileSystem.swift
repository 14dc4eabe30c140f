import CodeSageCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// File reads and crash-safe writes.
public enum FileSystem {
    /// Reads a whole file. Throws `.notFound` when it does not exist.
    public static func readFile(_ path: String) throws(CodeSageError) -> [UInt8] {
        var bytes: [UInt8] = []
        try readBlocks(path, blockBytes: 1 << 16) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Reads the regular file at `path`, at most `maxBytes`; nil when it holds more. The last component is
    /// opened with O_NOFOLLOW and O_NONBLOCK and checked with fstat, so a file swapped for a link, a FIFO or
    /// a device after it was examined is refused (`.invalidArgument`) instead of followed, waited on, or
    /// read without end. Throws `.notFound` when it is gone and `.io` for other failures.
    public static func readRegularFile(_ path: String, maxBytes: Int) throws(CodeSageError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw CodeSageError(.notFound, "\(path) vanished: \(SystemCall.errnoText(code))")
            case ELOOP: throw CodeSageError(.invalidArgument, "\(path) became a symbolic link")
            default: throw CodeSageError(.io, "cannot open \(path): \(SystemCall.errnoText(code))")
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CodeSageError(.io, "fstat \(path): \(SystemCall.errnoText(errno))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw CodeSageError(.invalidArgument, "\(path) is not a regular file") }
        if info.st_size > maxBytes { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count <= maxBytes {
            let count = try SystemCall.retrying("read \(path)") {
                chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, maxBytes + 1 - bytes.count)) }
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return nil  // it grew past the limit while being read
    }

    /// Calls `body` with the file's bytes, block by block (no more than `blockBytes` in memory at once).
    public static func readBlocks(_ path: String, blockBytes: Int, _ body: (UnsafeRawBufferPointer) -> Void) throws(CodeSageError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            throw CodeSageError(code == ENOENT ? .notFound : .io, "cannot open \(path): \(SystemCall.errnoText(code))")
        }
        defer { close(fd) }
        var block = [UInt8](repeating: 0, count: max(1, blockBytes))
        while true {
            let count = try SystemCall.retrying("read \(path)") { block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if count == 0 { return }
            block.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// Bytes an unprivileged writer may still use on the file system holding `path` (or its folder); nil
    /// when it cannot be asked.
    public static func freeBytes(near path: String) -> UInt64? {
        var info = statvfs()
        for candidate in [path, String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])] where statvfs(candidate, &info) == 0 {
            return UInt64(info.f_bavail) * UInt64(info.f_frsize)
        }
        return nil
    }

    /// Reads a whole file as UTF-8 text (invalid sequences become U+FFFD).
    public static func readText(_ path: String) throws(CodeSageError) -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    /// Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a mix
    /// (see `writeDurably(to:producing:)`).
    public static func writeDurably(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(CodeSageError) {
        try writeDurably(to: path) { (temporary) throws(CodeSageError) in
            let fd = try SystemCall.retrying("create \(temporary)") { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
            defer { close(fd) }
            var offset = 0
            while offset < bytes.count {
                let written = try SystemCall.retrying("write \(temporary)") {
                    bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
                }
                offset += written
            }
        }
    }

    /// The one durable write of the code base: `produce` writes the new contents to the temporary path it
    /// is given (`<path>.tmp.<pid>.<n>`, in the same folder, new for each call, to be created exclusively:
    /// the index's own writer, a C library, anything),
    /// then the file is fsynced, renamed over `path` and the folder fsynced. A crash leaves the old file or
    /// the new one, never a mix; a failure removes the temporary file and leaves `path` as it was.
    public static func writeDurably(to path: String, producing produce: (String) throws(CodeSageError) -> Void) throws(CodeSageError) {
        let temporary = "\(path).tmp.\(getpid()).\(temporaryCounter.add(1, ordering: .relaxed).newValue)"
        do {
            try produce(temporary)
            let fd = try SystemCall.retrying("open \(temporary)") { open(temporary, O_RDONLY | O_CLOEXEC) }
            defer { close(fd) }
            try SystemCall.retrying("fsync \(temporary)") { fsync(fd) }
            try SystemCall.retrying("rename \(temporary) to \(path)") { rename(temporary, path) }
        } catch {
            unlink(temporary)
            throw error
        }
        try syncFolder(containing: path)
    }

    /// fsyncs the folder holding `path`, making a rename inside it durable.
    public static func syncFolder(containing path: String) throws(CodeSageError) {
        let folder: String
        if let slash = path.lastIndex(of: "/") {
            folder = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            folder = "."
        }
        let fd = try SystemCall.retrying("open folder \(folder)") { open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        defer { close(fd) }
        try SystemCall.retrying("fsync folder \(folder)") { fsync(fd) }
    }

    /// Whether something exists at `path` (following links).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// The size of the file at `path` in bytes.
    public static func size(of path: String) throws(CodeSageError) -> UInt64 {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            throw CodeSageError(code == ENOENT ? .notFound : .io, "cannot stat \(path): \(SystemCall.errnoText(code))")
        }
        return UInt64(info.st_size)
    }

    /// Creates a fresh private temporary folder (mode 0700) and returns its path.
    public static func makeTemporaryFolder(prefix: String = "codesage") throws(CodeSageError) -> String {
        let base = ProcessInfoReader.environmentValue("TMPDIR") ?? "/tmp"
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw CodeSageError(.io, "mkdtemp in \(base): \(SystemCall.errnoText(errno))") }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Creates `path` and any missing parents (mode 0755); an existing folder is fine.
    public static func makeFolders(_ path: String) throws(CodeSageError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 {
                let code = errno
                var info = stat()
                guard code == EEXIST, stat(prefix, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                    throw CodeSageError(.io, "cannot create folder \(prefix): \(SystemCall.errnoText(code == EEXIST ? ENOTDIR : code))")
                }
            }
            prefix += "/"
        }
    }

    /// Removes the file (or empty folder) at `path`; a missing path is fine.
    public static func remove(_ path: String) throws(CodeSageError) {
        if unlink(path) == 0 || errno == ENOENT { return }
        if errno == EISDIR, rmdir(path) == 0 { return }
        throw CodeSageError(.io, "cannot remove \(path): \(SystemCall.errnoText(errno))")
    }
}

/// Numbers the temporary files of `FileSystem.writeDurably`, so two writes in one process never share one.
private let temporaryCounter = Atomic<Int>(0)
