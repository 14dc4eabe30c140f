import CodeSageCore
import Dispatch
import Foundation
import IPC
import Logging
import CodeSageService
import MCPServer
import Platform
import ServiceLifecycle

/// One worker process of `codesage supervise`: attached to the supervisor's control block, serving
/// MCP Streamable HTTP on its own Unix socket, heartbeating, cleaning up and reloading when asked,
/// draining on SIGTERM (the graceful shutdown of its ServiceGroup), and exiting when the supervisor dies.
public final class WorkerRuntime: Service, @unchecked Sendable {
    /// Where the worker stands and whom it answers to.
    public struct Options: Sendable {
        public var slot: Int
        /// The socket is `<socketDirectory>/worker-<slot>.sock`.
        public var socketDirectory: String
        /// The repository root the supervisor serves (opened and mapped at start).
        public var root: String
        public var controlBlockName: String
        public var supervisorPID: Int32
        public var supervisorStartTicks: UInt64
        /// The NUMA node the supervisor planned for this worker (recorded in the slot; -1: none).
        public var numaNode: Int32
        public init(slot: Int, socketDirectory: String, root: String, controlBlockName: String,
                    supervisorPID: Int32, supervisorStartTicks: UInt64, numaNode: Int32) {
            self.slot = slot
            self.socketDirectory = socketDirectory
            self.root = root
            self.controlBlockName = controlBlockName
            self.supervisorPID = supervisorPID
            self.supervisorStartTicks = supervisorStartTicks
            self.numaNode = numaNode
        }
    }

    /// Seconds between heartbeats (the supervisor calls a worker hung after many missed).
    public static let heartbeatSeconds = 0.25
    /// How long a drain waits for requests in flight (SIGTERM from the supervisor).
    public static let drainDeadline: Duration = .seconds(10)

    private let options: Options
    private let block: ControlBlock
    private let workspace: Workspace
    private let table: ToolTable
    private let logger: Logger
    private let lock = NSLock()
    private var slot = ControlBlock.Slot()
    private var server: HTTPServer?
    private var stopping = false
    private var busy = false
    private let actions = DispatchQueue(label: "codesage.worker.actions")
    private var signalSources: [DispatchSourceSignal] = []

    /// Attaches to the control block (validated against the supervisor's pid and start time) and arranges
    /// to receive SIGTERM when the supervisor dies. Fails when the supervisor is already gone.
    public init(options: Options, workspace: Workspace, table: ToolTable, logger: Logger) throws(CodeSageError) {
        try Processes.setParentDeathSignal(SIGTERM)
        // The supervisor may have died before the line above: then our parent is no longer it.
        guard Processes.parentPID == options.supervisorPID else {
            throw CodeSageError(.unavailable, "worker \(options.slot): the supervisor (pid \(options.supervisorPID)) is gone")
        }
        block = try ControlBlock.open(name: options.controlBlockName, supervisorPID: options.supervisorPID,
                                      startTicks: options.supervisorStartTicks)
        guard options.slot >= 0, options.slot < block.maxWorkers else {
            throw CodeSageError(.invalidArgument, "worker slot \(options.slot) is outside the control block's \(block.maxWorkers)")
        }
        self.options = options
        self.workspace = workspace
        self.table = table
        self.logger = logger
        slot.pid = Processes.currentPID
        slot.numaNode = options.numaNode
        slot.state = .starting
        slot.cleanupGenerationAcknowledged = block.cleanupGeneration
    }

    /// The worker's socket path.
    public var socketPath: String { "\(options.socketDirectory)/worker-\(options.slot).sock" }

    /// Runs the worker until it is told to stop (its group's graceful shutdown on SIGTERM or SIGINT, a
    /// shutdown request in the control block, the supervisor's death), then drains and returns.
    public func run() async throws {
        installSignalHandlers()  // before the slot names this pid: the supervisor signals only attached workers
        publish()
        startHeartbeat()
        // Open the served root now: the model and the index are mapped, and the index's pages touched,
        // before the first request (they are the page cache's, shared with every other worker).
        openServedRoot()
        let server = try await HTTPServer.start(
            table: table, endpoint: .unix(path: socketPath), socketMode: workspace.configuration.socketMode,
            maxBodyBytes: Int(workspace.configuration.maxRequestBytes), authToken: workspace.configuration.authToken,
            metricsText: { [table] in ServerTools.prometheus(self.workspace, metrics: table.metrics) }, logger: logger)
        lock.withLock {
            self.server = server
            slot.state = .ready
        }
        publish()
        logger.info("worker \(options.slot) (pid \(slot.pid)) ready on \(socketPath)")
        await withGracefulShutdownHandler {
            await waitForStop()
        } onGracefulShutdown: { [self] in
            requestStop()
        }
        await drain(server)
    }

    // MARK: start-up

    /// Opens the served root's newest generation (again, after a reload request) and touches every page of
    /// its mapped index; records the generation in the slot. A failure is logged: the tools report the same
    /// error to clients, and the worker still serves everything else.
    private func openServedRoot() {
        do {
            let engine = try workspace.engine(root: options.root)
            let touched = try engine.snapshot.vectors?.prefault() ?? 0
            lock.withLock { slot.indexGenerationLoaded = UInt64(max(0, engine.snapshot.generation)) }
            logger.info("worker \(options.slot): generation \(engine.snapshot.generation) of \(options.root) open, \(touched) index bytes mapped")
        } catch {
            logger.error("worker \(options.slot): cannot open \(options.root): \(error)")
        }
    }

    // MARK: heartbeat and control

    /// A dedicated thread, not a Dispatch timer: the heartbeat must go on while request work occupies the
    /// shared thread pools, or the supervisor would take a busy worker for a hung one.
    private func startHeartbeat() {
        let thread = Thread { [self] in
            // Until the process exits: a draining worker is alive too.
            var tick = 0
            while true {
                beat(measure: tick % 4 == 0)
                tick += 1
                Thread.sleep(forTimeInterval: Self.heartbeatSeconds)
            }
        }
        thread.name = "codesage-heartbeat"
        thread.start()
    }

    private func beat(measure: Bool) {
        if Processes.parentPID != options.supervisorPID, !lock.withLock({ stopping }) {
            logger.warning("worker \(options.slot): the supervisor is gone; stopping")
            requestStop()
            return
        }
        if block.shutdownRequested, !lock.withLock({ stopping }) { requestStop() }
        if measure, let memory = try? ProcessMemory.read() {
            lock.withLock {
                slot.rssBytes = memory.rss
                slot.pssBytes = memory.pss
            }
        }
        publish()
        scheduleActions()
    }

    /// Cleanup and reload requests, run off the heartbeat thread (they can take a while).
    private func scheduleActions() {
        let generation = block.cleanupGeneration
        let config = try? block.readConfig()
        let pending = lock.withLock { () -> Bool in
            guard !busy else { return false }
            let cleanupDue = generation > slot.cleanupGenerationAcknowledged
            let reloadDue = config.map { $0.indexGeneration > slot.indexGenerationLoaded } ?? false
            busy = cleanupDue || reloadDue
            return busy
        }
        guard pending else { return }
        actions.async { [self] in
            if generation > lock.withLock({ slot.cleanupGenerationAcknowledged }) {
                let target = block.cleanupTarget
                if target == nil || target == options.slot {
                    let cleanup = workspace.memoryManager.cleanUp(reason: "asked by the supervisor (cleanup generation \(generation))")
                    logger.info("worker \(options.slot): cleanup \(generation): RSS \(cleanup.rssBeforeBytes >> 20) → \(cleanup.rssAfterBytes >> 20) MiB")
                }
                lock.withLock { slot.cleanupGenerationAcknowledged = generation }
            }
            // Requests switch on their own when they see a newer generation; this makes the switch (and its
            // acknowledgement) happen without waiting for one.
            if let config, config.indexGeneration > lock.withLock({ slot.indexGenerationLoaded }) { openServedRoot() }
            lock.withLock { busy = false }
            publish()
        }
    }

    /// Writes the slot: state, counters, heartbeat. Four threads publish (start, heartbeat, actions,
    /// drain); the copy is written under the lock that guards it, so the slot has one writer at a time and
    /// a newer state is never overwritten by an older one.
    private func publish() {
        let activity = lock.withLock { server?.activity }
        let toolErrors = table.metrics.snapshot().reduce(0) { $0 + $1.errors }
        lock.withLock {
            if let activity {
                slot.inflight = UInt64(max(0, activity.inflight))
                slot.requests = UInt64(activity.requests)
                slot.errors = UInt64(activity.serverErrors + toolErrors)
            }
            slot.heartbeatNanoseconds = MonotonicClock.nanoseconds()
            block.writeSlot(options.slot, slot)
        }
    }

    // MARK: stopping

    private var stopContinuation: CheckedContinuation<Void, Never>?

    private func installSignalHandlers() {
        // SIGTERM and SIGINT belong to the ServiceGroup (graceful shutdown); SIGUSR1 is the supervisor's wake-up.
        signal(SIGUSR1, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        source.setEventHandler { [self] in scheduleActions() }
        source.resume()
        signalSources.append(source)
    }

    private func requestStop() {
        let continuation = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            stopping = true
            defer { stopContinuation = nil }
            return stopContinuation
        }
        continuation?.resume()
    }

    private func waitForStop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let already = lock.withLock { () -> Bool in
                if stopping { return true }
                stopContinuation = continuation
                return false
            }
            if already { continuation.resume() }
        }
    }

    /// Stops accepting, lets requests in flight finish (up to the drain deadline; one second when the
    /// supervisor is gone), and marks the slot empty.
    private func drain(_ server: HTTPServer) async {
        lock.withLock { slot.state = .draining }
        publish()
        let orphaned = Processes.parentPID != options.supervisorPID
        let left = await server.drain(deadline: orphaned ? .seconds(1) : Self.drainDeadline)
        logger.info("worker \(options.slot): drained (\(left) requests left in flight)")
        lock.withLock { slot.state = .empty }
        publish()
    }
}
