import CPlatform
import CodeSageCore
#if canImport(Glibc)
import Glibc
#endif

/// Change notifications for a set of folders, from the kernel's inotify. It watches folders, not trees:
/// the caller adds each folder (and the folders that appear) and decides what the events mean. One
/// thread uses it at a time.
public final class DirectoryWatcher {
    /// One thing that happened.
    public enum Event: Sendable, Equatable {
        /// An entry of a watched folder was created, changed, deleted or moved in or out.
        case entry(folder: String, name: String, isDirectory: Bool, created: Bool)
        /// A watched folder itself was deleted or moved away (its watch is gone).
        case folderGone(String)
        /// The kernel's queue overflowed: events were lost, only a full scan knows what changed.
        case overflow
    }

    /// The outcome of adding a folder.
    public enum Addition: Sendable, Equatable {
        case watching
        /// The user's watch limit (fs.inotify.max_user_watches, or the watcher's own `limit`) is reached.
        case limitReached
        /// The folder is gone or is not a folder (a race with a delete: nothing to watch).
        case notAFolder
    }

    /// The events asked for: everything that changes which files exist or what they hold.
    static let mask: UInt32 = UInt32(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO
        | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

    private let descriptor: Int32
    private var folderByWatch: [Int32: String] = [:]
    private var watchByFolder: [String: Int32] = [:]
    /// At most this many folders are watched (nil: only the kernel's limit): lets a test reach the limit.
    public let limit: Int?

    /// Opens an inotify instance; throws when the kernel refuses one (fs.inotify.max_user_instances).
    public init(limit: Int? = nil) throws(CodeSageError) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw CodeSageError(.io, "inotify_init1: \(SystemCall.errnoText(errno))") }
        descriptor = fd
        self.limit = limit
    }

    deinit { close(descriptor) }

    /// The folders watched now.
    public var folders: Set<String> { Set(watchByFolder.keys) }

    /// How many folders are watched.
    public var count: Int { watchByFolder.count }

    /// Starts watching `folder` (absolute); watching one already watched is a no-op.
    public func add(_ folder: String) throws(CodeSageError) -> Addition {
        if watchByFolder[folder] != nil { return .watching }
        if let limit, watchByFolder.count >= limit { return .limitReached }
        let wd = inotify_add_watch(descriptor, folder, Self.mask)
        if wd < 0 {
            let code = errno
            switch code {
            case ENOSPC: return .limitReached
            case ENOENT, ENOTDIR, EACCES: return .notAFolder
            default: throw CodeSageError(.io, "inotify_add_watch \(folder): \(SystemCall.errnoText(code))")
            }
        }
        // Two paths to one folder (a link inside the tree, or a folder moved: its new path is added before
        // the event of its move arrives) share the kernel's watch; the newest path names its events.
        folderByWatch[wd] = folder
        watchByFolder[folder] = wd
        return .watching
    }

    /// Stops watching `folder` and every folder below it (a removed tree takes its watches along). A
    /// kernel watch still reached by another path (the folder's new name after a move) is kept.
    public func remove(_ folder: String) {
        let prefix = folder + "/"
        var dropped: Set<Int32> = []
        for (path, wd) in watchByFolder where path == folder || path.hasPrefix(prefix) {
            watchByFolder[path] = nil
            dropped.insert(wd)
        }
        for wd in dropped {
            if let other = watchByFolder.first(where: { $0.value == wd })?.key {
                folderByWatch[wd] = other
            } else {
                folderByWatch[wd] = nil
                inotify_rm_watch(descriptor, wd)
            }
        }
    }

    /// Waits up to `timeout` (nil: without end) for events, then returns every event queued; empty when
    /// none came in time.
    public func wait(timeout: Duration?) throws(CodeSageError) -> [Event] {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds: Int32 = timeout.map { duration in
            let c = duration.components
            return Int32(clamping: max(0, c.seconds * 1000 + (c.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000))
        } ?? -1
        let ready = poll(&poller, 1, milliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw CodeSageError(.io, "poll on inotify: \(SystemCall.errnoText(errno))")
        }
        guard ready > 0 else { return [] }
        return try readQueued()
    }

    /// Reads every queued event without waiting.
    private func readQueued() throws(CodeSageError) -> [Event] {
        var events: [Event] = []
        let capacity = 64 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer, capacity)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN { return events }
                throw CodeSageError(.io, "read inotify: \(SystemCall.errnoText(code))")
            }
            if count == 0 { return events }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let event = (buffer + offset).loadUnaligned(as: inotify_event.self)
                let nameBytes = Int(event.len)
                let name: String = nameBytes == 0 ? "" : String(cString: (buffer + offset + header).assumingMemoryBound(to: CChar.self))
                offset += header + nameBytes
                decode(event, name: name, into: &events)
            }
        }
    }

    private func decode(_ event: inotify_event, name: String, into events: inout [Event]) {
        let mask = event.mask
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            events.append(.overflow)
            return
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            // The kernel dropped the watch (its folder went away, or it was removed): forget it.
            folderByWatch[event.wd] = nil
            for (path, wd) in watchByFolder where wd == event.wd { watchByFolder[path] = nil }
            return
        }
        guard let folder = folderByWatch[event.wd] else { return }
        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
            events.append(.folderGone(folder))
            return
        }
        let created = mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0
        events.append(.entry(folder: folder, name: name, isDirectory: mask & UInt32(IN_ISDIR) != 0, created: created))
    }
}
