import CodeSageCore
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock (flock) on a file, held until `unlock()` or deinit.
///
/// The kernel drops a flock when its holder dies, so a crashed process never leaves a stale lock.
/// The holder's pid is written into the file so a refused caller can say who holds it.
public final class FileLock {
    private var descriptor: Int32
    /// The lock file.
    public let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { unlock() }

    /// Takes the lock on `path` (created 0600 if missing).
    /// - Parameter wait: block until the lock is free; otherwise throw `.busy` at once when it is held.
    public static func acquire(_ path: String, wait: Bool) throws(CodeSageError) -> FileLock {
        let fd = try SystemCall.retrying("open lock \(path)") { open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            let code = errno
            if code == EINTR { continue }
            let holder = ((try? FileSystem.readText(path)) ?? "").filter(\.isNumber)
            close(fd)
            if code == EWOULDBLOCK {
                throw CodeSageError(.busy, "\(path) is locked by another process\(holder.isEmpty ? "" : " (pid \(holder))")")
            }
            throw CodeSageError(.io, "cannot lock \(path): \(SystemCall.errnoText(code))")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return FileLock(descriptor: fd, path: path)
    }

    /// Releases the lock (idempotent).
    public func unlock() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }
}
