import CodeSageCore
import Dispatch
import Foundation
import IPC
import IndexStore
import Logging
import Platform
import Synchronization

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
        /// Run `codesage index --watch` beside the workers, the fleet's one writer of the index (CODESAGE_WATCH).
        public var watchIndex = false

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

    private let options: Options
    private let logger: Logger
    private let paths: SupervisorPaths
    /// Every decision; this class only carries them out.
    private var machine: SupervisorMachine
    private let signals = SignalFlags()
    private var signalSources: [DispatchSourceSignal] = []

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
        paths = SupervisorPaths(socketDirectory: options.socketDirectory)
        var limits = SupervisorMachine.Limits()
        limits.heartbeatTimeout = options.heartbeatTimeout
        limits.startupGrace = options.startupGrace
        limits.drainDeadline = options.drainDeadline
        limits.softLimit = options.softLimit
        limits.hardLimit = options.hardLimit
        machine = SupervisorMachine(slots: options.placements.count, limits: limits, watchIndex: options.watchIndex)
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

    /// Feeds the machine what happens (signals, exits, the fleet's heartbeats and PSS, new generations)
    /// and carries out its actions, until it has stopped. SIGTERM is honoured in every phase, the initial
    /// index build included.
    private func loop() throws(CodeSageError) {
        installSignalHandlers()
        let block = try ControlBlock.create(name: paths.controlBlockName, lockPath: paths.lockPath,
                                            maxWorkers: options.placements.count, numaNodes: options.numaNodes)
        defer { block.unlink() }
        let indexed = try IndexManifest.read(path: options.layout.manifestPath) != nil
        logger.info("supervisor \(Processes.currentPID): \(options.placements.count) workers on \(options.socketDirectory), control block \(block.name)")
        execute(machine.handle(.start(indexed: indexed)), block)
        var lastSlowCheck = ContinuousClock.now - .seconds(10)
        while true {
            if case .stopped(let failure) = machine.phase {
                if let failure { throw CodeSageError(.io, failure) }
                return
            }
            if signals.take(SIGTERM) || signals.take(SIGINT) { execute(machine.handle(.terminate(now: .now)), block) }
            if signals.take(SIGHUP) {
                logger.info("SIGHUP: checking for a new index generation")
                publishNewest(block)
            }
            for (pid, exit) in Processes.reapEnded() {
                execute(machine.handle(.exited(pid: ProcessID(pid), exit: exit, now: .now)), block)
            }
            let now = ContinuousClock.now
            let slow = now - lastSlowCheck >= .seconds(1)
            if slow { lastSlowCheck = now }
            execute(machine.handle(.tick(now: now, observations: observe(block, withMemory: slow))), block)
            if slow || machine.published == nil { publishNewest(block) }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// What the control block and /proc say of each running worker (PSS only `withMemory`: it reads smaps).
    private func observe(_ block: ControlBlock, withMemory: Bool) -> [Int: SupervisorMachine.Observation] {
        var seen: [Int: SupervisorMachine.Observation] = [:]
        for (slot, worker) in machine.workers.enumerated() {
            guard let pid = worker.pid else { continue }
            let published = block.slot(slot)
            let attached = published.pid == pid.rawValue
            let age: Duration? = attached && published.heartbeatNanoseconds > 0
                ? .nanoseconds(Int64(min(MonotonicClock.nanoseconds() &- published.heartbeatNanoseconds, UInt64(Int64.max)))) : nil
            let pss = withMemory && attached ? (try? ProcessMemory.read(pid: String(pid.rawValue)))?.pss : nil
            seen[slot] = .init(attachedPID: attached ? pid : nil, heartbeatAge: age, pss: pss)
        }
        return seen
    }

    /// Tells the machine the manifest's generation (it publishes it when it is new).
    private func publishNewest(_ block: ControlBlock) {
        switch machine.phase {
        case .running, .indexing: break
        case .stopping, .stopped: return
        }
        guard let manifest = try? IndexManifest.read(path: options.layout.manifestPath) else { return }
        execute(machine.handle(.generation(Generation(manifest.generation), now: .now)), block)
    }

    // MARK: carrying out actions

    private func execute(_ actions: [SupervisorMachine.Action], _ block: ControlBlock) {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .spawn(let what):
                do {
                    let pid = try spawn(what, block: block)
                    queue.append(contentsOf: machine.handle(.spawned(what, pid: ProcessID(pid), now: .now)))
                } catch {
                    queue.append(contentsOf: machine.handle(.spawnFailed(what, reason: error.description, now: .now)))
                }
            case .signal(let pid, let signal):
                Processes.send(signal == .kill ? SIGKILL : SIGTERM, to: pid.rawValue)
            case .publish(let generation):
                publish(generation, block)
            case .requestCleanup(let slots, let wake):
                let generation = block.requestCleanup(slot: slots?.first)
                for (slot, pid) in wake.sorted(by: { $0.key < $1.key }) { self.wake(slot, pid: pid, block: block) }
                logger.info("cleanup \(generation) requested of \(slots.map { "worker \($0[0])" } ?? "every worker")")
            case .requestShutdown:
                block.requestShutdown()
            case .log(.info, let message): logger.info("\(message)")
            case .log(.warning, let message): logger.warning("\(message)")
            case .log(.error, let message): logger.error("\(message)")
            }
        }
    }

    private func spawn(_ what: SupervisorMachine.Spawn, block: ControlBlock) throws(CodeSageError) -> Int32 {
        switch what {
        case .indexBuilder:
            return try Processes.spawn(executable: options.executable,
                                       arguments: ["index"] + options.sharedArguments + ["--wait", options.layout.root],
                                       environment: options.environment)
        case .indexWatcher:
            return try Processes.spawn(executable: options.executable,
                                       arguments: ["index"] + options.sharedArguments + ["--wait", "--watch", options.layout.root],
                                       environment: options.environment)
        case .worker(let slot):
            let placement = options.placements[slot]
            var arguments = ["worker"] + options.sharedArguments + [
                "--slot", String(slot), "--socket-dir", options.socketDirectory, "--path", options.layout.root,
                "--control-block", paths.controlBlockName, "--supervisor-pid", String(Processes.currentPID),
            ]
            if let node = placement.node { arguments += ["--node", String(node)] }
            if let cpus = placement.cpus { arguments += ["--cpus", CPUAffinity.compress(cpus)] }
            return try Processes.spawn(executable: options.executable, arguments: arguments, environment: options.environment)
        }
    }

    /// Writes the generation in the config area and wakes the workers to switch to it.
    private func publish(_ generation: Generation, _ block: ControlBlock) {
        var config = ControlBlock.Config()
        config.globalBudget = options.globalBudget
        config.workerSoftLimit = options.softLimit
        config.workerHardLimit = options.hardLimit
        config.indexGeneration = UInt64(max(0, generation.rawValue))
        config.ompThreads = UInt32(options.environment["OMP_NUM_THREADS"].flatMap { UInt32($0) } ?? 1)
        config.indexPath = options.layout.directory.utf8.count < 256 ? options.layout.directory : ""
        do {
            try block.writeConfig(config)
        } catch {
            logger.error("cannot publish generation \(generation): \(error.description)")
            return
        }
        for (slot, worker) in machine.workers.enumerated() { if let pid = worker.pid { wake(slot, pid: pid, block: block) } }
    }

    /// SIGUSR1 to a worker that has attached to the control block (and so handles it; before that the
    /// signal's default action would kill it). One that has not will read the request when it starts.
    private func wake(_ slot: Int, pid: ProcessID, block: ControlBlock) {
        if block.slot(slot).pid == pid.rawValue { Processes.send(SIGUSR1, to: pid.rawValue) }
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
final class SignalFlags: Sendable {
    private let raised = Mutex(Set<Int32>())

    func raise(_ signal: Int32) { raised.withLock { _ = $0.insert(signal) } }

    /// Whether `signal` arrived since the last call (and forgets it).
    func take(_ signal: Int32) -> Bool { raised.withLock { $0.remove(signal) != nil } }
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
