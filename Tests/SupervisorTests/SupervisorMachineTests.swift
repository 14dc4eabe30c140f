import CodeSageCore
import Platform
import Supervisor
import Testing

/// Every transition of the supervisor's decisions, without a process.
@Suite("Supervisor machine")
struct SupervisorMachineTests {
    static let t0 = ContinuousClock.now
    static func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    static func limits() -> SupervisorMachine.Limits {
        var limits = SupervisorMachine.Limits()
        limits.softLimit = 100 << 20
        limits.hardLimit = 200 << 20
        return limits
    }

    /// The spawns among `actions`.
    static func spawns(_ actions: [SupervisorMachine.Action]) -> [SupervisorMachine.Spawn] {
        actions.compactMap { if case .spawn(let what) = $0 { return what } else { return nil } }
    }

    static func signals(_ actions: [SupervisorMachine.Action]) -> [SupervisorMachine.Action] {
        actions.filter { if case .signal = $0 { return true } else { return false } }
    }

    /// A machine whose `slots` workers run as pids 100, 101, … on generation 1.
    static func running(slots: Int = 2) -> SupervisorMachine {
        var machine = SupervisorMachine(slots: slots, limits: limits(), now: t0)
        #expect(machine.handle(.start(indexed: true)).isEmpty)
        let spawned = spawns(machine.handle(.generation(Generation(1), now: t0)))
        #expect(spawned == (0..<slots).map { .worker(slot: $0) })
        for slot in 0..<slots { _ = machine.handle(.spawned(.worker(slot: slot), pid: ProcessID(Int32(100 + slot)), now: t0)) }
        return machine
    }

    static func attached(_ pid: Int32, age: Double = 0.1, pss: UInt64? = nil) -> SupervisorMachine.Observation {
        .init(attachedPID: ProcessID(pid), heartbeatAge: .milliseconds(Int(age * 1000)), pss: pss)
    }

    @Test("an indexed root: the generation is published first, then every worker is spawned")
    func startIndexed() {
        var machine = SupervisorMachine(slots: 3, limits: Self.limits(), now: Self.t0)
        #expect(machine.handle(.start(indexed: true)).isEmpty)
        #expect(machine.handle(.tick(now: Self.at(0.1), observations: [:])).isEmpty, "no worker before a generation is published")
        let actions = machine.handle(.generation(Generation(4), now: Self.at(0.2)))
        #expect(actions.first == .publish(Generation(4)))
        #expect(Self.spawns(actions) == [.worker(slot: 0), .worker(slot: 1), .worker(slot: 2)])
        #expect(machine.handle(.generation(Generation(4), now: Self.at(0.3))).isEmpty, "the same generation is not published twice")
        #expect(machine.phase == .running)
    }

    @Test("no index: a builder is spawned; workers start once a generation is published (here after the build)")
    func startUnindexed() {
        var machine = SupervisorMachine(slots: 2, limits: Self.limits(), now: Self.t0)
        #expect(Self.spawns(machine.handle(.start(indexed: false))) == [.indexBuilder])
        _ = machine.handle(.spawned(.indexBuilder, pid: ProcessID(50), now: Self.t0))
        #expect(machine.phase == .indexing && machine.livePIDs == [ProcessID(50)])
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(1), observations: [:]))).isEmpty, "no worker before a generation exists")
        _ = machine.handle(.exited(pid: ProcessID(50), exit: .exited(0), now: Self.at(2)))
        #expect(machine.phase == .running && machine.livePIDs.isEmpty)
        let actions = machine.handle(.generation(Generation(1), now: Self.at(2)))
        #expect(actions.first == .publish(Generation(1)) && Self.spawns(actions).count == 2)
    }

    @Test("a failed index build, or a builder that cannot start, stops the supervisor with the reason")
    func indexFailure() {
        var machine = SupervisorMachine(slots: 1, limits: Self.limits(), now: Self.t0)
        _ = machine.handle(.start(indexed: false))
        _ = machine.handle(.spawned(.indexBuilder, pid: ProcessID(50), now: Self.t0))
        _ = machine.handle(.exited(pid: ProcessID(50), exit: .exited(74), now: Self.at(1)))
        guard case .stopped(let failure?) = machine.phase else { Issue.record("not stopped: \(machine.phase)"); return }
        #expect(failure.contains("exited with status 74"))

        var other = SupervisorMachine(slots: 1, limits: Self.limits(), now: Self.t0)
        _ = other.handle(.start(indexed: false))
        _ = other.handle(.spawnFailed(.indexBuilder, reason: "no such file", now: Self.t0))
        guard case .stopped(let reason?) = other.phase else { Issue.record("not stopped: \(other.phase)"); return }
        #expect(reason.contains("no such file"))
    }

    @Test("SIGTERM during the initial index build stops the builder and ends without starting a worker")
    func terminateWhileIndexing() {
        var machine = SupervisorMachine(slots: 2, limits: Self.limits(), now: Self.t0)
        _ = machine.handle(.start(indexed: false))
        _ = machine.handle(.spawned(.indexBuilder, pid: ProcessID(50), now: Self.t0))
        let actions = machine.handle(.terminate(now: Self.at(1)))
        #expect(Self.signals(actions) == [.signal(ProcessID(50), .terminate)])
        #expect(machine.handle(.tick(now: Self.at(2), observations: [:])).isEmpty)
        #expect(Self.signals(machine.handle(.tick(now: Self.at(17), observations: [:]))) == [.signal(ProcessID(50), .kill)],
                "a builder that ignores SIGTERM is killed at the deadline")
        _ = machine.handle(.exited(pid: ProcessID(50), exit: .signalled(15), now: Self.at(17)))
        #expect(machine.phase == .stopped(failure: nil))
        #expect(Self.spawns(machine.handle(.generation(Generation(1), now: Self.at(18)))).isEmpty)
    }

    @Test("SIGTERM before the builder's spawn came back: the builder is stopped as soon as it is known")
    func terminateBeforeBuilderSpawned() {
        var machine = SupervisorMachine(slots: 1, limits: Self.limits(), now: Self.t0)
        _ = machine.handle(.start(indexed: false))
        _ = machine.handle(.terminate(now: Self.t0))
        #expect(machine.phase == .stopped(failure: nil))
        #expect(machine.handle(.spawned(.indexBuilder, pid: ProcessID(50), now: Self.t0)) == [.signal(ProcessID(50), .terminate)])
        #expect(machine.livePIDs == [ProcessID(50)], "and waited for")
        _ = machine.handle(.exited(pid: ProcessID(50), exit: .signalled(15), now: Self.at(1)))
        #expect(machine.phase == .stopped(failure: nil))
    }

    @Test("a crash restarts at once the first time, then with a doubling backoff; a minute of life resets it")
    func crashBackoff() {
        var machine = Self.running(slots: 1)
        var actions = machine.handle(.exited(pid: ProcessID(100), exit: .signalled(11), now: Self.at(1)))
        #expect(Self.spawns(actions) == [.worker(slot: 0)], "first crash: no wait")
        _ = machine.handle(.spawned(.worker(slot: 0), pid: ProcessID(110), now: Self.at(1)))
        actions = machine.handle(.exited(pid: ProcessID(110), exit: .exited(1), now: Self.at(2)))
        #expect(Self.spawns(actions).isEmpty)
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(2.4), observations: [:]))).isEmpty)
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(2.5), observations: [:]))) == [.worker(slot: 0)], "second crash: 0.5 s")
        _ = machine.handle(.spawned(.worker(slot: 0), pid: ProcessID(111), now: Self.at(2.5)))
        _ = machine.handle(.exited(pid: ProcessID(111), exit: .exited(1), now: Self.at(3)))
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(3.9), observations: [:]))).isEmpty)
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(4), observations: [:]))) == [.worker(slot: 0)], "third crash: 1 s")
        _ = machine.handle(.spawned(.worker(slot: 0), pid: ProcessID(112), now: Self.at(4)))
        actions = machine.handle(.exited(pid: ProcessID(112), exit: .exited(1), now: Self.at(70)))
        #expect(Self.spawns(actions) == [.worker(slot: 0)], "after a minute alive the crash count starts again")
        #expect(machine.workers[0].restarts == 4)
        #expect(SupervisorMachine.Limits().stableAfter == .seconds(60))
    }

    @Test("a failed spawn is retried with the backoff")
    func spawnFailure() {
        var machine = SupervisorMachine(slots: 1, limits: Self.limits(), now: Self.t0)
        _ = machine.handle(.start(indexed: true))
        _ = machine.handle(.generation(Generation(1), now: Self.t0))
        _ = machine.handle(.spawnFailed(.worker(slot: 0), reason: "EAGAIN", now: Self.t0))
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(0.4), observations: [:]))).isEmpty)
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(0.5), observations: [:]))) == [.worker(slot: 0)])
    }

    @Test("a stale heartbeat, or none long after the start, gets the worker killed and restarted without backoff")
    func hung() {
        var machine = Self.running(slots: 2)
        var actions = machine.handle(.tick(now: Self.at(5), observations: [0: Self.attached(100, age: 3.5), 1: Self.attached(101, age: 0.2)]))
        #expect(Self.signals(actions) == [.signal(ProcessID(100), .kill)])
        #expect(machine.handle(.tick(now: Self.at(5.1), observations: [0: Self.attached(100, age: 3.6)])).isEmpty, "killed once")
        actions = machine.handle(.exited(pid: ProcessID(100), exit: .signalled(9), now: Self.at(5.2)))
        #expect(Self.spawns(actions) == [.worker(slot: 0)], "stopped by the supervisor: restarted at once")
        _ = machine.handle(.spawned(.worker(slot: 0), pid: ProcessID(120), now: Self.at(5.2)))
        let never = SupervisorMachine.Observation(attachedPID: nil, heartbeatAge: nil, pss: nil)
        #expect(machine.handle(.tick(now: Self.at(30), observations: [0: never])).isEmpty, "inside the start-up grace")
        #expect(Self.signals(machine.handle(.tick(now: Self.at(36), observations: [0: never]))) == [.signal(ProcessID(120), .kill)])
    }

    @Test("over the soft limit: one cleanup request, at most every 5 s; several workers at once share one request")
    func softLimit() {
        var machine = Self.running(slots: 2)
        let over = UInt64(150 << 20)
        var actions = machine.handle(.tick(now: Self.at(1), observations: [0: Self.attached(100, pss: over), 1: Self.attached(101, pss: 10 << 20)]))
        #expect(actions.contains(.requestCleanup(slots: [0], wake: [0: ProcessID(100)])))
        #expect(!machine.handle(.tick(now: Self.at(3), observations: [0: Self.attached(100, pss: over)])).contains { if case .requestCleanup = $0 { true } else { false } })
        actions = machine.handle(.tick(now: Self.at(6.5), observations: [0: Self.attached(100, pss: over), 1: Self.attached(101, pss: over)]))
        #expect(actions.contains(.requestCleanup(slots: nil, wake: [0: ProcessID(100), 1: ProcessID(101)])))
        let starting = SupervisorMachine.Observation(attachedPID: nil, heartbeatAge: nil, pss: over)
        var fresh = Self.running(slots: 1)
        #expect(fresh.handle(.tick(now: Self.at(1), observations: [0: starting])).isEmpty, "a worker still starting is not asked")
    }

    @Test("over the hard limit: drained (SIGTERM), killed after the deadline, restarted at once")
    func hardLimit() {
        var machine = Self.running(slots: 1)
        var actions = machine.handle(.tick(now: Self.at(1), observations: [0: Self.attached(100, pss: 250 << 20)]))
        #expect(Self.signals(actions) == [.signal(ProcessID(100), .terminate)])
        #expect(Self.signals(machine.handle(.tick(now: Self.at(10), observations: [0: Self.attached(100, pss: 250 << 20)]))).isEmpty)
        actions = machine.handle(.tick(now: Self.at(16.5), observations: [0: Self.attached(100)]))
        #expect(Self.signals(actions) == [.signal(ProcessID(100), .kill)])
        actions = machine.handle(.exited(pid: ProcessID(100), exit: .signalled(9), now: Self.at(16.6)))
        #expect(Self.spawns(actions) == [.worker(slot: 0)] && machine.workers[0].crashes == 0)
    }

    @Test("a new generation is published and the workers woken; the same one again is nothing")
    func reload() {
        var machine = Self.running(slots: 2)
        #expect(machine.handle(.generation(Generation(2), now: Self.at(1))).first == .publish(Generation(2)))
        #expect(machine.handle(.generation(Generation(2), now: Self.at(2))).isEmpty)
        #expect(machine.published == Generation(2))
    }

    @Test("SIGTERM while serving: shutdown flag, SIGTERM to every worker, SIGKILL at the deadline, stopped when all are gone")
    func drain() {
        var machine = Self.running(slots: 2)
        let actions = machine.handle(.terminate(now: Self.at(1)))
        #expect(actions.contains(.requestShutdown))
        #expect(Self.signals(actions) == [.signal(ProcessID(100), .terminate), .signal(ProcessID(101), .terminate)])
        _ = machine.handle(.exited(pid: ProcessID(100), exit: .exited(0), now: Self.at(2)))
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(3), observations: [:]))).isEmpty, "no restart while stopping")
        #expect(Self.signals(machine.handle(.tick(now: Self.at(16.5), observations: [:]))) == [.signal(ProcessID(101), .kill)])
        _ = machine.handle(.exited(pid: ProcessID(101), exit: .signalled(9), now: Self.at(16.6)))
        #expect(machine.phase == .stopped(failure: nil))
        #expect(machine.handle(.terminate(now: Self.at(17))).isEmpty)
    }

    @Test("a worker whose spawn returns after SIGTERM is stopped and waited for")
    func spawnAfterTerminate() {
        var machine = Self.running(slots: 1)
        _ = machine.handle(.exited(pid: ProcessID(100), exit: .signalled(11), now: Self.at(1)))  // spawn asked for
        _ = machine.handle(.terminate(now: Self.at(1)))
        #expect(machine.phase == .stopped(failure: nil), "nothing was running")
        var other = Self.running(slots: 2)
        _ = other.handle(.exited(pid: ProcessID(100), exit: .signalled(11), now: Self.at(1)))
        _ = other.handle(.terminate(now: Self.at(1)))
        #expect(other.handle(.spawned(.worker(slot: 0), pid: ProcessID(130), now: Self.at(1))) == [.signal(ProcessID(130), .terminate)])
        #expect(Set(other.livePIDs) == [ProcessID(101), ProcessID(130)])
    }

    @Test("watching: one index watcher starts once the root is indexed, is restarted with back-off when it dies, and is drained with the workers")
    func indexWatcher() {
        var machine = SupervisorMachine(slots: 1, limits: Self.limits(), watchIndex: true, now: Self.t0)
        #expect(Self.spawns(machine.handle(.start(indexed: false))) == [.indexBuilder], "no watcher while the first build runs")
        _ = machine.handle(.spawned(.indexBuilder, pid: ProcessID(50), now: Self.t0))
        #expect(Self.spawns(machine.handle(.exited(pid: ProcessID(50), exit: .exited(0), now: Self.at(1)))) == [.indexWatcher])
        _ = machine.handle(.spawned(.indexWatcher, pid: ProcessID(60), now: Self.at(1)))
        _ = machine.handle(.generation(Generation(1), now: Self.at(1)))
        _ = machine.handle(.spawned(.worker(slot: 0), pid: ProcessID(100), now: Self.at(1)))
        #expect(machine.indexWatcher == ProcessID(60) && Set(machine.livePIDs) == [ProcessID(60), ProcessID(100)])

        // It dies: restarted at the next look (the first crash), then with a back-off when it dies again soon.
        _ = machine.handle(.exited(pid: ProcessID(60), exit: .signalled(9), now: Self.at(2)))
        #expect(machine.indexWatcher == nil)
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(2.01), observations: [0: Self.attached(100)]))) == [.indexWatcher])
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(2.02), observations: [0: Self.attached(100)]))).isEmpty, "never two")
        _ = machine.handle(.spawned(.indexWatcher, pid: ProcessID(61), now: Self.at(2.05)))
        _ = machine.handle(.exited(pid: ProcessID(61), exit: .exited(1), now: Self.at(3)))
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(3.1), observations: [0: Self.attached(100)]))).isEmpty, "backing off")
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(3.6), observations: [0: Self.attached(100)]))) == [.indexWatcher])
        _ = machine.handle(.spawned(.indexWatcher, pid: ProcessID(61), now: Self.at(3.6)))

        // SIGTERM: the watcher is signalled with the workers, and the supervisor waits for both.
        let stop = machine.handle(.terminate(now: Self.at(70)))
        #expect(Self.signals(stop).contains(.signal(ProcessID(61), .terminate)) && Self.signals(stop).contains(.signal(ProcessID(100), .terminate)))
        _ = machine.handle(.exited(pid: ProcessID(100), exit: .exited(0), now: Self.at(71)))
        #expect(machine.phase != .stopped(failure: nil), "still waiting for the watcher")
        _ = machine.handle(.exited(pid: ProcessID(61), exit: .exited(0), now: Self.at(71)))
        #expect(machine.phase == .stopped(failure: nil))
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(200), observations: [:]))).isEmpty, "no restart after stopping")
    }

    @Test("a first build that publishes for keyword search early lets the workers serve; the watcher waits for the builder")
    func servesDuringColdBuild() {
        var machine = SupervisorMachine(slots: 2, limits: Self.limits(), watchIndex: true, now: Self.t0)
        #expect(Self.spawns(machine.handle(.start(indexed: false))) == [.indexBuilder])
        _ = machine.handle(.spawned(.indexBuilder, pid: ProcessID(50), now: Self.t0))
        // The builder's lexical generation: workers start, no watcher (the builder is still the writer).
        let first = machine.handle(.generation(Generation(1), now: Self.at(1)))
        #expect(machine.phase == .running)
        #expect(Self.spawns(first) == [.worker(slot: 0), .worker(slot: 1)])
        _ = machine.handle(.spawned(.worker(slot: 0), pid: ProcessID(100), now: Self.at(1)))
        _ = machine.handle(.spawned(.worker(slot: 1), pid: ProcessID(101), now: Self.at(1)))
        _ = machine.handle(.generation(Generation(2), now: Self.at(2)))
        #expect(machine.published == Generation(2) && machine.indexWatcher == nil)
        #expect(!Self.spawns(machine.handle(.tick(now: Self.at(3), observations: [0: Self.attached(100), 1: Self.attached(101)]))).contains(.indexWatcher))
        // The builder finishes: now the watcher starts.
        #expect(Self.spawns(machine.handle(.exited(pid: ProcessID(50), exit: .exited(0), now: Self.at(4)))) == [.indexWatcher])
    }

    @Test("a builder that fails after its first publication leaves the workers serving and the watcher in charge")
    func builderFailsAfterPublishing() {
        var machine = SupervisorMachine(slots: 1, limits: Self.limits(), watchIndex: true, now: Self.t0)
        _ = machine.handle(.start(indexed: false))
        _ = machine.handle(.spawned(.indexBuilder, pid: ProcessID(50), now: Self.t0))
        _ = machine.handle(.generation(Generation(1), now: Self.at(1)))
        _ = machine.handle(.spawned(.worker(slot: 0), pid: ProcessID(100), now: Self.at(1)))
        // SIGTERM reaches the builder too while it runs beside the workers.
        var copy = machine
        #expect(Self.signals(copy.handle(.terminate(now: Self.at(2)))).contains(.signal(ProcessID(50), .terminate)))
        #expect(Self.spawns(machine.handle(.exited(pid: ProcessID(50), exit: .exited(74), now: Self.at(2)))) == [.indexWatcher])
        #expect(machine.phase == .running)
    }

    @Test("without watching no watcher is ever spawned")
    func noWatcher() {
        var machine = Self.running(slots: 1)
        #expect(Self.spawns(machine.handle(.tick(now: Self.at(100), observations: [0: Self.attached(100)]))).isEmpty)
        #expect(machine.indexWatcher == nil)
    }
}
