import CodeSageCore
import Platform

/// The supervisor's decisions as a value: events in, actions out. It holds the supervisor's private
/// record of the fleet (pids, crashes, deadlines) and never touches a process, a clock or the control
/// block itself; `Supervisor` feeds it what happened and carries out what it returns. Every transition
/// is unit-tested without processes.
public struct SupervisorMachine: Sendable {
    /// The limits the decisions use.
    public struct Limits: Sendable {
        /// A worker whose heartbeat is older than this is hung and replaced.
        public var heartbeatTimeout: Duration = .seconds(3)
        /// How long a started worker may take to write its first heartbeat.
        public var startupGrace: Duration = .seconds(30)
        /// How long SIGTERM'd workers (or the index builder) may take before SIGKILL.
        public var drainDeadline: Duration = .seconds(15)
        /// PSS over this: the worker is asked to clean up (0: no soft limit).
        public var softLimit: UInt64 = 0
        /// PSS over this: the worker is drained and restarted (0: no hard limit).
        public var hardLimit: UInt64 = 0
        /// Least time between two cleanup requests to one worker.
        public var cleanupInterval: Duration = .seconds(5)
        /// A worker that lived this long has its crash count reset.
        public var stableAfter: Duration = .seconds(60)

        public init() {}
    }

    /// Where the supervisor is.
    public enum Phase: Equatable, Sendable {
        /// The root has no index yet: a `codesage index` child builds it; no worker runs.
        case indexing
        /// Workers serve.
        case running
        /// Shutting down: waiting for the processes that remain (SIGKILL at `deadline`).
        case stopping(deadline: ContinuousClock.Instant)
        /// Nothing left to wait for; `failure` when the supervisor could not do its job.
        case stopped(failure: String?)
    }

    /// One slot's record.
    public struct Worker: Equatable, Sendable {
        public var pid: ProcessID?
        public var started: ContinuousClock.Instant
        /// Crashes in a row (reset when a worker lives `stableAfter`).
        public var crashes = 0
        public var nextStart: ContinuousClock.Instant?
        /// Why the supervisor itself stopped this worker (it is restarted at once, without backoff).
        public var stopReason: String?
        public var killAt: ContinuousClock.Instant?
        public var lastCleanupRequest: ContinuousClock.Instant?
        public var restarts = 0
    }

    /// What the supervisor sees of one running worker at a tick.
    public struct Observation: Equatable, Sendable {
        /// The pid the worker wrote in its slot (nil: it has not attached yet).
        public var attachedPID: ProcessID?
        /// How long ago its heartbeat was written (nil: none yet).
        public var heartbeatAge: Duration?
        /// Its PSS from /proc (nil: unreadable).
        public var pss: UInt64?

        public init(attachedPID: ProcessID?, heartbeatAge: Duration?, pss: UInt64?) {
            self.attachedPID = attachedPID
            self.heartbeatAge = heartbeatAge
            self.pss = pss
        }
    }

    /// Something that happened.
    public enum Event: Sendable {
        /// The supervisor starts; `indexed`: the root has a published index.
        case start(indexed: Bool)
        /// A spawn asked for by an action succeeded or failed.
        case spawned(Spawn, pid: ProcessID, now: ContinuousClock.Instant)
        case spawnFailed(Spawn, reason: String, now: ContinuousClock.Instant)
        /// A child ended.
        case exited(pid: ProcessID, exit: Processes.Exit, now: ContinuousClock.Instant)
        /// Periodic look at the fleet: an observation per slot whose worker runs.
        case tick(now: ContinuousClock.Instant, observations: [Int: Observation])
        /// The newest generation in the root's manifest (SIGHUP, the periodic check, or after the first build).
        case generation(Generation, now: ContinuousClock.Instant)
        /// SIGTERM or SIGINT.
        case terminate(now: ContinuousClock.Instant)
    }

    /// What to spawn.
    public enum Spawn: Equatable, Sendable {
        case indexBuilder
        /// `codesage index --watch`: the one process of the fleet that writes the index, keeping it current.
        case indexWatcher
        case worker(slot: Int)
    }

    /// What the supervisor must do.
    public enum Action: Equatable, Sendable {
        case spawn(Spawn)
        case signal(ProcessID, Signal)
        /// Publish the generation in the control block's config and wake the attached workers.
        case publish(Generation)
        /// A cleanup request for these slots (nil: every worker), and SIGUSR1 to each.
        case requestCleanup(slots: [Int]?, wake: [Int: ProcessID])
        /// Set the control block's shutdown flag.
        case requestShutdown
        case log(LogLevel, String)
    }

    /// The signals the supervisor sends.
    public enum Signal: Equatable, Sendable {
        /// SIGTERM: drain and exit.
        case terminate
        /// SIGKILL.
        case kill
    }

    /// How loud a log line is.
    public enum LogLevel: Equatable, Sendable { case info, warning, error }

    public private(set) var phase: Phase = .indexing
    public private(set) var workers: [Worker]
    /// The `codesage index` child building the first index.
    public private(set) var indexBuilder: ProcessID?
    /// Whether an index watcher runs beside the workers (CODESAGE_WATCH).
    public let watchesIndex: Bool
    /// The `codesage index --watch` child, and when it is due to (re)start while none runs.
    public private(set) var indexWatcher: ProcessID?
    private var watcherNextStart: ContinuousClock.Instant?
    private var watcherCrashes = 0
    private var watcherStarted: ContinuousClock.Instant?
    private var started = false
    /// The generation published in the control block (nil before the first).
    public private(set) var published: Generation?
    public let limits: Limits

    /// A machine for `slots` workers.
    /// A machine for `slots` workers; with `watchIndex`, an index watcher runs beside them once the root is indexed.
    public init(slots: Int, limits: Limits, watchIndex: Bool = false, now: ContinuousClock.Instant = .now) {
        self.limits = limits
        watchesIndex = watchIndex
        workers = Array(repeating: Worker(started: now, nextStart: now), count: slots)
    }

    /// The pids of every process the supervisor still has to wait for.
    public var livePIDs: [ProcessID] {
        workers.compactMap(\.pid) + [indexBuilder, indexWatcher].compactMap { $0 }
    }

    /// Applies `event`; returns what to do, in order.
    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .start(let indexed):
            guard !started else { return [] }
            started = true
            if indexed {
                phase = .running
                return startWatcher(now: .now)  // workers start when the generation is published
            }
            return [.log(.info, "the root has no index yet; building it"), .spawn(.indexBuilder)]
        case .spawned(let what, let pid, let now):
            return spawned(what, pid: pid, now: now)
        case .spawnFailed(let what, let reason, let now):
            return spawnFailed(what, reason: reason, now: now)
        case .exited(let pid, let exit, let now):
            return exited(pid: pid, exit: exit, now: now)
        case .tick(let now, let observations):
            return tick(now: now, observations: observations)
        case .generation(let generation, let now):
            // A first build that publishes for keyword search before it embeds (a cold root) lets the workers
            // serve from that generation on, while the builder goes on writing; the watcher waits for it to exit.
            if case .indexing = phase, indexBuilder != nil { phase = .running }
            guard case .running = phase, generation != published else { return [] }
            let first = published == nil
            published = generation
            // Workers start once the first generation is in the control block.
            return [.publish(generation)] + (first ? startDue(now: now) : [.log(.info, "index generation \(generation) published")])
        case .terminate(let now):
            return terminate(now: now)
        }
    }

    // MARK: transitions

    private mutating func spawned(_ what: Spawn, pid: ProcessID, now: ContinuousClock.Instant) -> [Action] {
        switch what {
        case .indexBuilder:
            indexBuilder = pid
            return stopLateStarter(pid, now: now)
        case .indexWatcher:
            indexWatcher = pid
            watcherStarted = now
            if case .stopping = phase { return [.signal(pid, .terminate)] }
            return [.log(.info, "index watcher: started, pid \(pid)")] + stopLateStarter(pid, now: now)
        case .worker(let slot):
            guard workers.indices.contains(slot) else { return [] }
            workers[slot].pid = pid
            if case .stopping = phase { return [.signal(pid, .terminate)] }
            if case .stopped = phase { return stopLateStarter(pid, now: now) }
            workers[slot].started = now
            workers[slot].nextStart = nil
            workers[slot].stopReason = nil
            workers[slot].killAt = nil
            return [.log(.info, "worker \(slot): started, pid \(pid)")]
        }
    }

    /// A process whose spawn came back after SIGTERM: stopped, and waited for like the others.
    private mutating func stopLateStarter(_ pid: ProcessID, now: ContinuousClock.Instant) -> [Action] {
        switch phase {
        case .indexing, .running:
            return []
        case .stopping:
            return [.signal(pid, .terminate)]
        case .stopped:
            phase = .stopping(deadline: now + limits.drainDeadline)
            return [.signal(pid, .terminate)]
        }
    }

    private mutating func spawnFailed(_ what: Spawn, reason: String, now: ContinuousClock.Instant) -> [Action] {
        switch what {
        case .indexBuilder:
            phase = .stopped(failure: "cannot start `codesage index`: \(reason)")
            return [.log(.error, "cannot start `codesage index`: \(reason)")]
        case .indexWatcher:
            watcherCrashes += 1
            let delay = Self.backoff(watcherCrashes)
            watcherNextStart = now + delay
            return [.log(.error, "cannot start the index watcher: \(reason); retrying in \(delay)")]
        case .worker(let slot):
            guard workers.indices.contains(slot) else { return [] }
            workers[slot].crashes += 1
            workers[slot].nextStart = now + Self.backoff(workers[slot].crashes)
            return [.log(.error, "worker \(slot): \(reason)")]
        }
    }

    private mutating func exited(pid: ProcessID, exit: Processes.Exit, now: ContinuousClock.Instant) -> [Action] {
        if pid == indexBuilder {
            indexBuilder = nil
            if case .stopping = phase { return finishIfDone() }
            guard exit == .exited(0) else {
                if published != nil, case .running = phase {
                    // Workers already serve the generation it published for keyword search: keep serving; the
                    // watcher's first update finishes the job.
                    let next = watchesIndex ? "the index watcher takes over" : "the workers serve what it published; `codesage index` finishes it"
                    return [.log(.error, "building the index failed after its first publication: `codesage index` \(exit); \(next)")]
                        + startWatcher(now: now)
                }
                phase = .stopped(failure: "building the index failed: `codesage index` \(exit)")
                return [.log(.error, "building the index failed: `codesage index` \(exit)")]
            }
            phase = .running
            return [.log(.info, "index built")] + startWatcher(now: now)
        }
        if pid == indexWatcher {
            indexWatcher = nil
            if case .stopping = phase { return finishIfDone() }
            guard case .running = phase else { return [] }
            if let started = watcherStarted, now - started >= limits.stableAfter { watcherCrashes = 0 }
            let delay = Self.backoff(watcherCrashes)
            watcherCrashes += 1
            watcherNextStart = now + delay
            return [.log(.warning, "index watcher (pid \(pid)) \(exit); restarting in \(delay) (the index stays as last published meanwhile)")]
        }
        if case .stopping = phase, let slot = slot(of: pid) {
            workers[slot].pid = nil
            return finishIfDone()
        }
        guard let slot = slot(of: pid) else { return [] }
        var worker = workers[slot]
        worker.pid = nil
        worker.restarts += 1
        var actions: [Action]
        if let reason = worker.stopReason {
            actions = [.log(.warning, "worker \(slot) (pid \(pid)) \(exit) after being stopped: \(reason); restarting")]
            worker.nextStart = now
        } else {
            if now - worker.started >= limits.stableAfter { worker.crashes = 0 }
            let delay = Self.backoff(worker.crashes)
            worker.crashes += 1
            actions = [.log(.warning, "worker \(slot) (pid \(pid)) \(exit); restarting in \(delay)")]
            worker.nextStart = now + delay
        }
        workers[slot] = worker
        return actions + startDue(now: now)
    }

    private mutating func tick(now: ContinuousClock.Instant, observations: [Int: Observation]) -> [Action] {
        switch phase {
        case .stopping(let deadline):
            guard now >= deadline else { return [] }
            return livePIDs.map { .signal($0, .kill) }
        case .indexing, .stopped:
            return []
        case .running:
            break
        }
        var actions = startDue(now: now)
        if indexWatcher == nil, let due = watcherNextStart, due <= now { actions += startWatcher(now: now) }
        var overSoft: [(slot: Int, pid: ProcessID, pss: UInt64)] = []
        for slot in workers.indices {
            guard let pid = workers[slot].pid else { continue }
            if let killAt = workers[slot].killAt, now >= killAt {
                actions += [.log(.warning, "worker \(slot) (pid \(pid)) did not drain in time; SIGKILL"), .signal(pid, .kill)]
                workers[slot].killAt = nil
                continue
            }
            guard workers[slot].stopReason == nil, let seen = observations[slot] else { continue }
            // Hung: a stale heartbeat, or none long after the start.
            let silent: Duration?
            if seen.attachedPID == pid, let age = seen.heartbeatAge {
                silent = age > limits.heartbeatTimeout ? age : nil
            } else {
                let waited = now - workers[slot].started
                silent = waited > limits.startupGrace ? waited : nil
            }
            if let silent {
                workers[slot].stopReason = "hung (no heartbeat for \(silent))"
                actions += [.log(.warning, "worker \(slot) (pid \(pid)) has not heartbeaten for \(silent); replacing it (SIGKILL)"),
                            .signal(pid, .kill)]
                continue
            }
            // Budgets, from /proc, only for workers that attached (one still starting has nothing to clean).
            guard seen.attachedPID == pid, let pss = seen.pss else { continue }
            if limits.hardLimit > 0, pss > limits.hardLimit {
                workers[slot].stopReason = "over the hard limit (PSS \(pss >> 20) MiB)"
                workers[slot].killAt = now + limits.drainDeadline
                actions += [.log(.warning, "worker \(slot) (pid \(pid)): PSS \(pss >> 20) MiB over the hard limit \(limits.hardLimit >> 20) MiB; draining and restarting it"),
                            .signal(pid, .terminate)]
            } else if limits.softLimit > 0, pss > limits.softLimit {
                if let last = workers[slot].lastCleanupRequest, now - last < limits.cleanupInterval { continue }
                overSoft.append((slot, pid, pss))
            }
        }
        if !overSoft.isEmpty {
            // One cleanup generation carries one target: several workers over in the same round get one
            // request for every worker (a second targeted one would overwrite the first before it was read).
            for worker in overSoft {
                workers[worker.slot].lastCleanupRequest = now
                actions.append(.log(.info, "worker \(worker.slot) (pid \(worker.pid)): PSS \(worker.pss >> 20) MiB over the soft limit \(limits.softLimit >> 20) MiB; cleanup requested"))
            }
            actions.append(.requestCleanup(slots: overSoft.count == 1 ? [overSoft[0].slot] : nil,
                                           wake: Dictionary(uniqueKeysWithValues: overSoft.map { ($0.slot, $0.pid) })))
        }
        return actions
    }

    private mutating func terminate(now: ContinuousClock.Instant) -> [Action] {
        switch phase {
        case .stopping, .stopped:
            return []
        case .indexing:
            phase = .stopping(deadline: now + limits.drainDeadline)
            let log = Action.log(.info, "SIGTERM while building the index: stopping `codesage index`")
            guard let pid = indexBuilder else { return [log] + finishIfDone() }
            return [log, .signal(pid, .terminate)]
        case .running:
            phase = .stopping(deadline: now + limits.drainDeadline)
            let pids = workers.compactMap(\.pid)
            watcherNextStart = nil
            return [.log(.info, "draining \(pids.count) workers"), .requestShutdown]
                + (pids + [indexWatcher, indexBuilder].compactMap { $0 }).map { .signal($0, .terminate) }
                + finishIfDone()
        }
    }

    /// In `.stopping`, once nothing is left: `.stopped`.
    private mutating func finishIfDone() -> [Action] {
        guard case .stopping = phase, livePIDs.isEmpty else { return [] }
        phase = .stopped(failure: nil)
        return [.log(.info, "all workers stopped")]
    }

    /// Spawns the index watcher (when watching, and none runs).
    private mutating func startWatcher(now: ContinuousClock.Instant) -> [Action] {
        guard watchesIndex, indexWatcher == nil, indexBuilder == nil, case .running = phase else { return [] }
        watcherNextStart = nil  // until the spawn's outcome comes back
        return [.spawn(.indexWatcher)]
    }

    /// Spawns for the slots whose start is due.
    private mutating func startDue(now: ContinuousClock.Instant) -> [Action] {
        guard case .running = phase, published != nil else { return [] }
        var actions: [Action] = []
        for slot in workers.indices where workers[slot].pid == nil {
            guard let due = workers[slot].nextStart, due <= now else { continue }
            workers[slot].nextStart = nil  // until the spawn's outcome comes back
            actions.append(.spawn(.worker(slot: slot)))
        }
        return actions
    }

    private func slot(of pid: ProcessID) -> Int? { workers.firstIndex { $0.pid == pid } }

    /// No wait for a first crash; then 0.5 s doubling to 10 s while a worker keeps crashing.
    static func backoff(_ crashes: Int) -> Duration {
        crashes == 0 ? .zero : .milliseconds(min(10_000, 500 << min(crashes - 1, 5)))
    }
}
