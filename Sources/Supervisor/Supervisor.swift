import CodeSageCore
import Dispatch
import Foundation
import IPC
import IndexStore
import Logging
import Platform

/// `codesage supervise`: spawns the workers (never forks), restarts the ones that crash or hang,
/// enforces their memory budgets, publishes new index generations, and drains everything on SIGTERM.
///
/// The supervisor keeps its own account of the fleet (pids, restarts, deadlines) in private memory and
/// treats what workers write in the control block as hints, as PostgreSQL's postmaster does.
public final class Supervisor: @unchecked Sendable {
    /// What to run and under which limits.
    public struct Options: Sendable {
        /// The served repository and its index.
        public var layout: IndexLayout
        /// An existing folder for the sockets, the lock file and nothing else.
        public var socketDirectory: String
        /// The binary to spawn (this one) and the arguments every worker gets before its own.
        public var executable: String
        public var sharedArguments: [String] = []
        /// The workers' environment (the supervisor's, plus thread counts).
        public var environment: [String: String]
        public var placements: [WorkerPlacement]
        public var numaNodes: Int
        public var globalBudget: UInt64
        /// PSS over the soft limit: the worker is asked to clean up. Over the hard limit: it is restarted.
        public var softLimit: UInt64
        public var hardLimit: UInt64
        /// A worker whose heartbeat is older than this is hung and replaced.
        public var heartbeatTimeout: Duration = .seconds(3)
        /// How long a started worker may take to write its first heartbeat.
        public var startupGrace: Duration = .seconds(30)
        /// How long SIGTERM'd workers may drain before SIGKILL.
        public var drainDeadline: Duration = .seconds(15)

        public init(layout: IndexLayout, socketDirectory: String, executable: String, environment: [String: String],
                    placements: [WorkerPlacement], numaNodes: Int, globalBudget: UInt64, softLimit: UInt64, hardLimit: UInt64) {
            self.layout = layout
            self.socketDirectory = socketDirectory
            self.executable = executable
            self.environment = environment
            self.placements = placements
            self.numaNodes = numaNodes
            self.globalBudget = globalBudget
            self.softLimit = softLimit
            self.hardLimit = hardLimit
        }
    }

    /// The supervisor's private record of one worker.
    private struct Record {
        var pid: Int32?
        var started = ContinuousClock.now
        /// Crashes in a row (reset when a worker lives a minute).
        var crashes = 0
        var nextStart: ContinuousClock.Instant? = .now
        /// Why the supervisor itself stopped this worker (it is restarted at once, without backoff).
        var stopReason: String?
        var killAt: ContinuousClock.Instant?
        var lastCleanupRequest: ContinuousClock.Instant?
        var restarts = 0
    }

    private let options: Options
    private let logger: Logger
    private let paths: SupervisorPaths
    private var records: [Record]
    private var publishedGeneration: Int64 = -1
    private let signals = SignalFlags()
    private var signalSources: [DispatchSourceSignal] = []

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
        paths = SupervisorPaths(socketDirectory: options.socketDirectory)
        records = Array(repeating: Record(), count: options.placements.count)
    }

    /// Runs until SIGTERM or SIGINT, then drains the workers and returns. Runs on a thread of its own,
    /// which spawns every worker: PR_SET_PDEATHSIG fires when the spawning *thread* ends, so it must
    /// live as long as the supervisor.
    public func run() async throws {
        let result: Result<Void, CodeSageError> = await withCheckedContinuation { continuation in
            let thread = Thread { [self] in
                do throws(CodeSageError) {
                    try loop()
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = "codesage-supervisor"
            thread.start()
        }
        try result.get()
    }

    private func loop() throws(CodeSageError) {
        installSignalHandlers()
        let block = try ControlBlock.create(name: paths.controlBlockName, lockPath: paths.lockPath,
                                            maxWorkers: options.placements.count, numaNodes: options.numaNodes)
        defer { block.unlink() }
        try ensureIndex()
        try publishGeneration(block, force: true)
        logger.info("supervisor \(Processes.currentPID): \(options.placements.count) workers on \(options.socketDirectory), control block \(block.name)")

        var lastSlowCheck = ContinuousClock.now - .seconds(10)
        while true {
            if signals.take(SIGTERM) || signals.take(SIGINT) {
                shutDown(block)
                return
            }
            if signals.take(SIGHUP) {
                logger.info("SIGHUP: checking for a new index generation")
                try? publishGeneration(block, force: false)
            }
            for (pid, exit) in Processes.reapEnded() { workerEnded(pid: pid, exit: exit) }
            let now = ContinuousClock.now
            for slot in records.indices {
                if records[slot].pid == nil, let due = records[slot].nextStart, due <= now { start(slot) }
                if let pid = records[slot].pid { watch(slot, pid: pid, block: block, now: now) }
            }
            if now - lastSlowCheck >= .seconds(1) {
                lastSlowCheck = now
                enforceBudgets(block, now: now)
                try? publishGeneration(block, force: false)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    // MARK: workers

    private func start(_ slot: Int) {
        let placement = options.placements[slot]
        var arguments = ["worker"] + options.sharedArguments + [
            "--slot", String(slot), "--socket-dir", options.socketDirectory, "--path", options.layout.root,
            "--control-block", paths.controlBlockName, "--supervisor-pid", String(Processes.currentPID),
        ]
        if let node = placement.node { arguments += ["--node", String(node)] }
        if let cpus = placement.cpus { arguments += ["--cpus", CPUAffinity.compress(cpus)] }
        do {
            let pid = try Processes.spawn(executable: options.executable, arguments: arguments, environment: options.environment)
            records[slot].pid = pid
            records[slot].started = .now
            records[slot].nextStart = nil
            records[slot].stopReason = nil
            records[slot].killAt = nil
            logger.info("worker \(slot): started, pid \(pid)\(placement.node.map { ", NUMA node \($0)" } ?? "")\(placement.cpus.map { ", CPUs \(CPUAffinity.compress($0))" } ?? "")")
        } catch {
            logger.error("worker \(slot): \(error.description)")
            records[slot].crashes += 1
            records[slot].nextStart = .now + backoff(records[slot].crashes)
        }
    }

    private func workerEnded(pid: Int32, exit: Processes.Exit) {
        guard let slot = records.firstIndex(where: { $0.pid == pid }) else { return }
        var record = records[slot]
        record.pid = nil
        record.restarts += 1
        if let reason = record.stopReason {
            logger.warning("worker \(slot) (pid \(pid)) \(exit) after being stopped: \(reason); restarting")
            record.nextStart = .now
        } else {
            if ContinuousClock.now - record.started >= .seconds(60) { record.crashes = 0 }
            let delay = backoff(record.crashes)
            record.crashes += 1
            logger.warning("worker \(slot) (pid \(pid)) \(exit); restarting in \(delay)")
            record.nextStart = .now + delay
        }
        records[slot] = record
    }

    /// No wait for a first crash; then 0.5 s doubling to 10 s while a worker keeps crashing.
    private func backoff(_ crashes: Int) -> Duration {
        crashes == 0 ? .zero : .milliseconds(min(10_000, 500 << min(crashes - 1, 5)))
    }

    /// Replaces a worker whose heartbeat stopped; escalates a drain that overran its deadline.
    private func watch(_ slot: Int, pid: Int32, block: ControlBlock, now: ContinuousClock.Instant) {
        if let killAt = records[slot].killAt, now >= killAt {
            logger.warning("worker \(slot) (pid \(pid)) did not drain in time; SIGKILL")
            Processes.send(SIGKILL, to: pid)
            records[slot].killAt = nil
            return
        }
        guard records[slot].stopReason == nil else { return }
        let published = block.slot(slot)
        let silent: Duration
        if published.pid == pid, published.heartbeatNanoseconds > 0 {
            let age = MonotonicClock.nanoseconds() &- published.heartbeatNanoseconds
            silent = .nanoseconds(Int64(min(age, UInt64(Int64.max))))
            guard silent > options.heartbeatTimeout else { return }
        } else {
            silent = now - records[slot].started
            guard silent > options.startupGrace else { return }
        }
        logger.warning("worker \(slot) (pid \(pid)) has not heartbeaten for \(silent); replacing it (SIGKILL)")
        records[slot].stopReason = "hung (no heartbeat for \(silent))"
        Processes.send(SIGKILL, to: pid)
    }

    /// Reads each worker's PSS from /proc (not the worker's own report): over the soft limit asks it to
    /// clean up (at most every 5 s), over the hard limit drains and restarts it. Only workers that have
    /// attached count (a process still starting has nothing to clean). One cleanup generation carries one
    /// target, so when several workers are over in the same round the request is for every worker: a
    /// second targeted request would overwrite the first before its worker read it.
    private func enforceBudgets(_ block: ControlBlock, now: ContinuousClock.Instant) {
        var overSoft: [(slot: Int, pid: Int32, pss: UInt64)] = []
        for slot in records.indices {
            guard let pid = records[slot].pid, records[slot].stopReason == nil, block.slot(slot).pid == pid,
                  let memory = try? ProcessMemory.read(pid: String(pid)) else { continue }
            if options.hardLimit > 0, memory.pss > options.hardLimit {
                logger.warning("worker \(slot) (pid \(pid)): PSS \(memory.pss >> 20) MiB over the hard limit \(options.hardLimit >> 20) MiB; draining and restarting it")
                records[slot].stopReason = "over the hard limit (PSS \(memory.pss >> 20) MiB)"
                records[slot].killAt = now + options.drainDeadline
                Processes.send(SIGTERM, to: pid)
            } else if options.softLimit > 0, memory.pss > options.softLimit {
                if let last = records[slot].lastCleanupRequest, now - last < .seconds(5) { continue }
                overSoft.append((slot, pid, memory.pss))
            }
        }
        guard !overSoft.isEmpty else { return }
        let generation = block.requestCleanup(slot: overSoft.count == 1 ? overSoft[0].slot : nil)
        for worker in overSoft {
            records[worker.slot].lastCleanupRequest = now
            wake(worker.slot, pid: worker.pid, block: block)
            logger.info("worker \(worker.slot) (pid \(worker.pid)): PSS \(worker.pss >> 20) MiB over the soft limit \(options.softLimit >> 20) MiB; cleanup \(generation) requested")
        }
    }

    // MARK: index

    /// Builds the index of the root with a `codesage index` child when it has none yet.
    private func ensureIndex() throws(CodeSageError) {
        guard try IndexManifest.read(path: options.layout.manifestPath) == nil else { return }
        logger.info("\(options.layout.root) has no index yet; building it")
        let pid = try Processes.spawn(executable: options.executable,
                                      arguments: ["index"] + options.sharedArguments + ["--wait", options.layout.root],
                                      environment: options.environment)
        let exit = try Processes.wait(for: pid)
        guard exit == .exited(0) else { throw CodeSageError(.io, "building the index of \(options.layout.root) failed: `codesage index` \(exit)") }
    }

    /// Publishes the root's newest generation in the config area when it changed (or when `force`),
    /// and wakes the workers to switch to it.
    private func publishGeneration(_ block: ControlBlock, force: Bool) throws(CodeSageError) {
        let generation = try IndexManifest.read(path: options.layout.manifestPath)?.generation ?? 0
        guard force || generation != publishedGeneration else { return }
        var config = ControlBlock.Config()
        config.globalBudget = options.globalBudget
        config.workerSoftLimit = options.softLimit
        config.workerHardLimit = options.hardLimit
        config.indexGeneration = UInt64(max(0, generation))
        config.ompThreads = UInt32(options.environment["OMP_NUM_THREADS"].flatMap { UInt32($0) } ?? 1)
        config.indexPath = options.layout.directory.utf8.count < 256 ? options.layout.directory : ""
        try block.writeConfig(config)
        if publishedGeneration >= 0 { logger.info("index generation \(generation) published") }
        publishedGeneration = generation
        for (slot, record) in records.enumerated() { if let pid = record.pid { wake(slot, pid: pid, block: block) } }
    }

    /// SIGUSR1 to a worker that has attached to the control block (and so handles it; before that the
    /// signal's default action would kill it). One that has not will read the request when it starts.
    private func wake(_ slot: Int, pid: Int32, block: ControlBlock) {
        if block.slot(slot).pid == pid { Processes.send(SIGUSR1, to: pid) }
    }

    // MARK: shutdown

    private func shutDown(_ block: ControlBlock) {
        logger.info("supervisor: draining \(records.compactMap(\.pid).count) workers")
        block.requestShutdown()
        for record in records { if let pid = record.pid { Processes.send(SIGTERM, to: pid) } }
        let deadline = ContinuousClock.now + options.drainDeadline
        while records.contains(where: { $0.pid != nil }) {
            for (pid, _) in Processes.reapEnded() {
                if let slot = records.firstIndex(where: { $0.pid == pid }) { records[slot].pid = nil }
            }
            if ContinuousClock.now >= deadline {
                for record in records { if let pid = record.pid { Processes.send(SIGKILL, to: pid) } }
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        logger.info("supervisor: all workers stopped")
    }

    private func installSignalHandlers() {
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [signals] in signals.raise(number) }
            source.resume()
            signalSources.append(source)
        }
    }
}

/// Signals received and not yet handled by the supervisor's loop.
final class SignalFlags: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = Set<Int32>()

    func raise(_ signal: Int32) { lock.withLock { _ = raised.insert(signal) } }

    /// Whether `signal` arrived since the last call (and forgets it).
    func take(_ signal: Int32) -> Bool { lock.withLock { raised.remove(signal) != nil } }
}

/// Where a supervisor of a socket folder keeps its lock, and the name of its control block.
public struct SupervisorPaths: Sendable {
    public let socketDirectory: String
    /// The flock that tells a live supervisor from a stale segment.
    public var lockPath: String { socketDirectory + "/supervisor.lock" }
    /// "/codesage-<uid>-<hash of the socket folder>": one supervisor per socket folder.
    public let controlBlockName: String

    public init(socketDirectory: String) {
        let folder = (try? FileSystem.realPath(resolving: socketDirectory)) ?? socketDirectory
        self.socketDirectory = folder
        // FNV-1a of the folder's path: stable across runs and processes (Swift's hashValue is seeded).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in folder.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        controlBlockName = ControlBlock.segmentName(instance: String(hash, radix: 16))
    }
}
