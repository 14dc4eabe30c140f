import CodeSageCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file (`mmap` with `PROT_READ`, `MAP_SHARED`); unmapped in
/// `deinit`. Never copies the file: processes that map the same file share its page-cache pages.
///
/// `@unchecked Sendable`: the mapping is read-only and never changes after `init`.
public final class MappedFile: @unchecked Sendable {
    /// The file's path.
    public let path: String
    /// First byte of the mapping.
    public let base: UnsafeRawPointer
    /// Size of the file (and of the mapping) in bytes.
    public let size: Int

    /// Maps the file at `path`; `.notFound` when it does not exist, `.io` when it cannot be opened or
    /// mapped, `.corruptData` when it is empty.
    public init(path: String) throws(CodeSageError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw CodeSageError(code == ENOENT ? .notFound : .io, "cannot open \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CodeSageError(.io, "cannot stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(st.st_size)
        guard size > 0 else { throw CodeSageError(.corruptData, "\(path) is empty") }
        guard let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw CodeSageError(.io, "cannot mmap \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.base = UnsafeRawPointer(p)
        self.size = size
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }

    /// Bytes of the mapping currently resident in memory (by `mincore`).
    public func residentBytes() -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = (size + page - 1) / page
        var vec = [UInt8](repeating: 0, count: pages)
        let rc = vec.withUnsafeMutableBufferPointer {
            mincore(UnsafeMutableRawPointer(mutating: base), size, $0.baseAddress)
        }
        guard rc == 0 else { return 0 }
        return vec.reduce(0) { $0 + Int($1 & 1) } * page
    }
}
