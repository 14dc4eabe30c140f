import Foundation
import Testing
@testable import CodeSageCore
@testable import Platform

@Suite("Processes: spawn, reap, signals")
struct ProcessesTests {
    @Test("a spawned child gets exactly the given environment, and its exit status is decoded")
    func spawnAndWait() throws {
        let pid = try Processes.spawn(executable: "/bin/sh", arguments: ["-c", #"test "$ONLY" = yes && test -z "$HOME" && exit 3"#],
                                      environment: ["ONLY": "yes"])
        #expect(try Processes.wait(for: pid) == .exited(3))
    }

    @Test("a signal that kills a child is reported as such")
    func killed() throws {
        let pid = try Processes.spawn(executable: "/bin/sleep", arguments: ["30"], environment: [:])
        #expect(Processes.isAlive(pid))
        #expect(Processes.send(SIGKILL, to: pid))
        #expect(try Processes.wait(for: pid) == .signalled(SIGKILL))
    }

    @Test("signals the parent ignores are back to their default action in the child")
    func defaultSignals() throws {
        let previous = signal(SIGTERM, SIG_IGN)
        defer { signal(SIGTERM, previous) }
        let pid = try Processes.spawn(executable: "/bin/sleep", arguments: ["30"], environment: [:])
        Processes.send(SIGTERM, to: pid)
        #expect(try Processes.wait(for: pid) == .signalled(SIGTERM))
    }

    @Test("a missing executable is an error naming it")
    func missing() {
        #expect(throws: CodeSageError.self) {
            try Processes.spawn(executable: "/nonexistent/codesage", arguments: [], environment: [:])
        }
    }

    @Test("reapEnded collects ended children without waiting")
    func reap() throws {
        let pid = try Processes.spawn(executable: "/bin/true", arguments: [], environment: [:])
        var reaped: [(pid: Int32, exit: Processes.Exit)] = []
        for _ in 0..<200 where !reaped.contains(where: { $0.pid == pid }) {
            reaped += Processes.reapEnded()
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(reaped.first { $0.pid == pid }?.exit == .exited(0))
    }

    @Test("this process's threads can all be bound, and /proc shows the binding")
    func bindAll() throws {
        let before = Processes.allowedCPUs()
        let topology = try Topology.load()
        let cpus = topology.nodes[0].cpus
        #expect(try Processes.bindAllThreads(toCPUs: cpus) >= 1)
        #expect(Processes.allowedCPUs() == CPUAffinity.compress(cpus))
        if let before, case .cpus(let list)? = CPUAffinity.parse(before) { try Processes.bindAllThreads(toCPUs: list) }
        #expect(throws: CodeSageError.self) { try Processes.bindAllThreads(toCPUs: []) }
    }
}
