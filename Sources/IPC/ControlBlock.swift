import CIPC
import CodeSageCore
import Platform
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's POSIX shared-memory control block (layout: ipc/include/cs_control_block.h).
///
/// The supervisor creates it under an flock on a lock file: the kernel drops the lock when its
/// holder dies, so a segment found while the lock is free is stale and is replaced. Workers open it
/// by name and validate it (magic, layout version, sizes, supervisor pid and start time) before use.
public final class ControlBlock: @unchecked Sendable {
    /// The segment's name ("/codesage-<uid>-<instance>").
    public let name: String
    /// Bytes mapped.
    public let size: Int
    let base: UnsafeMutableRawPointer
    private let lock: FileLock?
    /// Slots in the mapping: the supervisor's own count, or a worker's copy taken once at validation. Every
    /// slot access is bounded by it, never by the header that any process mapping the block can write.
    private let slotCount: Int

    private init(name: String, base: UnsafeMutableRawPointer, size: Int, lock: FileLock?, slotCount: Int) {
        self.name = name
        self.base = base
        self.size = size
        self.lock = lock
        self.slotCount = slotCount
    }

    deinit { munmap(base, size) }

    /// The segment name for `instance` of the current user.
    public static func segmentName(instance: String) -> String { "/codesage-\(getuid())-\(instance)" }

    /// Creates the block as supervisor: takes the lock at `lockPath` (refused with `.busy` while a live
    /// supervisor holds it), removes a stale segment of the same name, and creates a new one, mode 0600.
    public static func create(name: String, lockPath: String, maxWorkers: Int, numaNodes: Int = 1) throws(CodeSageError) -> ControlBlock {
        guard maxWorkers > 0, maxWorkers <= Int(CS_CB_MAX_WORKERS) else {
            throw CodeSageError(.invalidArgument, "control block: \(maxWorkers) workers (1…\(CS_CB_MAX_WORKERS))")
        }
        let lock = try FileLock.acquire(lockPath, wait: false)
        shm_unlink(name)  // whatever is there belongs to a supervisor that no longer holds the lock
        let fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CodeSageError(.io, "shm_open \(name): \(SystemErrno(errno).description)") }
        defer { close(fd) }
        let size = cs_cb_total_size(UInt32(maxWorkers))
        guard ftruncate(fd, off_t(size)) == 0 else {
            let code = errno
            shm_unlink(name)
            throw CodeSageError(.io, "ftruncate \(name): \(SystemErrno(code).description)")
        }
        let base = try map(fd: fd, size: size, name: name)
        cs_cb_init(base, UInt32(maxWorkers), getpid(), try startTicks(pid: getpid()), UInt32(max(1, numaNodes)))
        return ControlBlock(name: name, base: base, size: size, lock: lock, slotCount: maxWorkers)
    }

    /// Opens and validates the block as a worker. With `supervisorPID`, the block must be that
    /// process's (and `startTicks` its start time); a mismatch is an error naming the check.
    public static func open(name: String, supervisorPID: Int32? = nil, startTicks: UInt64 = 0) throws(CodeSageError) -> ControlBlock {
        let fd = shm_open(name, O_RDWR | O_CLOEXEC, 0)
        guard fd >= 0 else {
            throw CodeSageError(errno == ENOENT ? .notFound : .io, "control block \(name): \(SystemErrno(errno).description)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw CodeSageError(.io, "fstat \(name): \(SystemErrno(errno).description)") }
        let size = Int(info.st_size)
        guard size >= cs_cb_total_size(1) else {
            throw CodeSageError(.corruptData, "control block \(name): \(size) bytes, smaller than any valid block")
        }
        let base = try map(fd: fd, size: size, name: name)
        let status = cs_cb_validate(base, size, supervisorPID ?? 0, startTicks)
        guard status == Int32(CS_CB_OK) else {
            munmap(base, size)
            throw CodeSageError(.corruptData, "control block \(name): \(describe(status))")
        }
        // Read once and checked here against this mapping's size (another process could change the header
        // after validation read it); never re-read from shared memory.
        let count = cs_cb_max_workers(base)
        guard count > 0, count <= CS_CB_MAX_WORKERS, cs_cb_total_size(count) <= size else {
            munmap(base, size)
            throw CodeSageError(.corruptData, "control block \(name): \(describe(Int32(CS_CB_BAD_WORKERS)))")
        }
        return ControlBlock(name: name, base: base, size: size, lock: nil, slotCount: Int(count))
    }

    private static func map(fd: Int32, size: Int, name: String) throws(CodeSageError) -> UnsafeMutableRawPointer {
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw CodeSageError(.io, "mmap \(name): \(SystemErrno(errno).description)")
        }
        return base
    }

    /// What a `cs_cb_validate` code means.
    static func describe(_ status: Int32) -> String {
        switch status {
        case Int32(CS_CB_TOO_SMALL): return "too small for a header"
        case Int32(CS_CB_BAD_MAGIC): return "bad magic (not a CodeSage control block, or not initialised)"
        case Int32(CS_CB_BAD_VERSION): return "layout version is not \(CS_CB_LAYOUT_VERSION)"
        case Int32(CS_CB_BAD_HEADER_SIZE): return "header size differs from this build's"
        case Int32(CS_CB_BAD_TOTAL_SIZE): return "total size disagrees with its worker count or the segment"
        case Int32(CS_CB_BAD_WORKERS): return "worker count out of range"
        case Int32(CS_CB_PID_MISMATCH): return "it belongs to another supervisor (pid differs)"
        case Int32(CS_CB_TICKS_MISMATCH): return "its supervisor pid was reused by another process (start time differs)"
        default: return "unknown validation result \(status)"
        }
    }

    /// The start time of process `pid` in clock ticks since boot (/proc/PID/stat field 22).
    public static func startTicks(pid: Int32) throws(CodeSageError) -> UInt64 {
        let text = try FileSystem.readText("/proc/\(pid)/stat")
        // The command name (field 2) is in parentheses and may contain spaces: count from the last ')'.
        guard let close = text.lastIndex(of: ")") else { throw CodeSageError(.corruptData, "/proc/\(pid)/stat: no command field") }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = UInt64(fields[19]) else { throw CodeSageError(.corruptData, "/proc/\(pid)/stat: no start time") }
        return ticks
    }

    /// Removes the segment's name (supervisor, on a clean exit); mappings stay valid until released.
    public func unlink() { shm_unlink(name) }

    // MARK: header

    public var maxWorkers: Int { slotCount }
    public var supervisorPID: Int32 { cs_cb_supervisor_pid(base) }
    public var supervisorStartTicks: UInt64 { cs_cb_supervisor_start_ticks(base) }
    public var numaNodes: Int { Int(cs_cb_numa_nodes(base)) }

    // MARK: config (supervisor writes, under the seqlock)

    /// The supervisor's configuration for the workers.
    public struct Config: Sendable, Equatable {
        public var globalBudget: UInt64 = 0
        public var workerSoftLimit: UInt64 = 0
        public var workerHardLimit: UInt64 = 0
        public var indexGeneration: UInt64 = 0
        public var ompThreads: UInt32 = 0
        public var nprobeDefault: UInt32 = 0
        /// At most 255 bytes of UTF-8.
        public var indexPath = ""
        public init() {}
    }

    /// Publishes `config` (one writer: the supervisor).
    public func writeConfig(_ config: Config) throws(CodeSageError) {
        guard config.indexPath.utf8.count < Int(CS_CB_PATH_MAX) else {
            throw CodeSageError(.invalidArgument, "control block: index path longer than \(CS_CB_PATH_MAX - 1) bytes")
        }
        var values = cs_cb_config_values()
        values.global_budget = config.globalBudget
        values.worker_soft_limit = config.workerSoftLimit
        values.worker_hard_limit = config.workerHardLimit
        values.index_generation = config.indexGeneration
        values.omp_threads = config.ompThreads
        values.nprobe_default = config.nprobeDefault
        withUnsafeMutableBytes(of: &values.index_path) { raw in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            raw.copyBytes(from: Array(config.indexPath.utf8))
        }
        cs_cb_config_write(base, &values)
    }

    /// A consistent copy of the configuration; `.busy` if a writer stayed mid-write for `tries` attempts.
    public func readConfig(tries: Int = 100_000) throws(CodeSageError) -> Config {
        var values = cs_cb_config_values()
        guard cs_cb_config_read(base, &values, Int32(tries)) >= 0 else {
            throw CodeSageError(.busy, "control block: the configuration stayed mid-update (a supervisor died while writing it?)")
        }
        var config = Config()
        config.globalBudget = values.global_budget
        config.workerSoftLimit = values.worker_soft_limit
        config.workerHardLimit = values.worker_hard_limit
        config.indexGeneration = values.index_generation
        config.ompThreads = values.omp_threads
        config.nprobeDefault = values.nprobe_default
        config.indexPath = withUnsafeBytes(of: values.index_path) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return config
    }

    // MARK: control (supervisor writes)

    /// Asks worker `slot` (nil: every worker) to clean up; returns the new cleanup generation.
    @discardableResult public func requestCleanup(slot: Int? = nil) -> UInt64 { cs_cb_request_cleanup(base, slot.map { Int32(clamping: $0) } ?? -1) }
    /// The latest cleanup generation; every worker acknowledges each one it sees.
    public var cleanupGeneration: UInt64 { cs_cb_cleanup_generation(base) }
    /// The slot the latest cleanup request is for; nil when it is for every worker.
    public var cleanupTarget: Int? {
        let target = cs_cb_cleanup_target(base)
        return target < 0 ? nil : Int(target)
    }
    public func requestShutdown() { cs_cb_request_shutdown(base) }
    public var shutdownRequested: Bool { cs_cb_shutdown_requested(base) != 0 }

    // MARK: slots (worker i writes slot i)

    /// A worker's state as published in its slot.
    public enum WorkerState: UInt32, Sendable {
        case empty = 0, starting, ready, draining, dead
    }

    /// One worker's slot.
    public struct Slot: Sendable, Equatable {
        public var state: WorkerState = .empty
        public var pid: Int32 = 0
        public var numaNode: Int32 = -1
        public var heartbeatNanoseconds: UInt64 = 0
        public var indexGenerationLoaded: UInt64 = 0
        public var cleanupGenerationAcknowledged: UInt64 = 0
        public var rssBytes: UInt64 = 0
        public var pssBytes: UInt64 = 0
        public var inflight: UInt64 = 0
        public var requests: UInt64 = 0
        public var errors: UInt64 = 0
        public init() {}
    }

    /// Writes slot `index` (only worker `index` may); out-of-range indices are ignored.
    public func writeSlot(_ index: Int, _ slot: Slot) {
        var v = cs_cb_slot_values()
        v.state = slot.state.rawValue
        v.pid = slot.pid
        v.numa_node = slot.numaNode
        v.heartbeat_ns = slot.heartbeatNanoseconds
        v.index_generation_loaded = slot.indexGenerationLoaded
        v.cleanup_generation_acked = slot.cleanupGenerationAcknowledged
        v.rss_bytes = slot.rssBytes
        v.pss_bytes = slot.pssBytes
        v.inflight = slot.inflight
        v.requests_total = slot.requests
        v.errors_total = slot.errors
        cs_cb_slot_write(base, UInt32(slotCount), UInt32(clamping: index), &v)
    }

    /// Reads slot `index` (an out-of-range index reads as an empty slot). Worker-written values are hints:
    /// an unknown state reads as `.dead`.
    public func slot(_ index: Int) -> Slot {
        var v = cs_cb_slot_values()
        cs_cb_slot_read(base, UInt32(slotCount), UInt32(clamping: index), &v)
        var slot = Slot()
        slot.state = WorkerState(rawValue: v.state) ?? .dead
        slot.pid = v.pid
        slot.numaNode = v.numa_node
        slot.heartbeatNanoseconds = v.heartbeat_ns
        slot.indexGenerationLoaded = v.index_generation_loaded
        slot.cleanupGenerationAcknowledged = v.cleanup_generation_acked
        slot.rssBytes = v.rss_bytes
        slot.pssBytes = v.pss_bytes
        slot.inflight = v.inflight
        slot.requests = v.requests_total
        slot.errors = v.errors_total
        return slot
    }

    /// Stamps slot `index`'s heartbeat.
    public func heartbeat(_ index: Int, nanoseconds: UInt64) { cs_cb_slot_heartbeat(base, UInt32(slotCount), UInt32(clamping: index), nanoseconds) }
}
