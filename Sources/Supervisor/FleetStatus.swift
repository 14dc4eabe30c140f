import CodeSageCore
import Foundation
import IPC
import Platform

/// What `codesage status` shows: the supervisor's control block read from outside.
public struct FleetStatus: Sendable, Encodable {
    public struct Supervisor: Sendable, Encodable {
        public var pid: Int32
        /// Whether that pid is alive and is the process that created the block (same start time).
        public var alive: Bool
        public var controlBlock: String
        public var maxWorkers: Int
        public var numaNodes: Int
        public var indexGeneration: UInt64
        public var indexPath: String
        public var globalBudgetBytes: UInt64
        public var workerSoftLimitBytes: UInt64
        public var workerHardLimitBytes: UInt64
        public var cleanupGeneration: UInt64
        public var shutdownRequested: Bool
    }

    public struct Worker: Sendable, Encodable {
        public var slot: Int
        public var state: String
        public var pid: Int32
        /// The NUMA node of the plan; nil when none was set.
        public var numaNode: Int?
        /// The CPUs the process may run on now (Cpus_allowed_list), when it is alive.
        public var cpus: String?
        public var heartbeatAgeMs: Double?
        public var rssBytes: UInt64
        public var pssBytes: UInt64
        public var inflight: UInt64
        public var requests: UInt64
        public var errors: UInt64
        public var indexGeneration: UInt64
        public var cleanupAcknowledged: UInt64
    }

    public var supervisor: Supervisor
    public var workers: [Worker]

    /// Reads the control block of the supervisor of `socketDirectory`.
    public static func read(socketDirectory: String) throws(CodeSageError) -> FleetStatus {
        let paths = SupervisorPaths(socketDirectory: socketDirectory)
        let block: ControlBlock
        do {
            block = try ControlBlock.open(name: paths.controlBlockName)
        } catch let error where error.code == .notFound {
            throw CodeSageError(.notFound, "no supervisor is running on \(paths.socketDirectory) (no control block \(paths.controlBlockName))")
        }
        let config = try block.readConfig()
        let pid = block.supervisorPID
        let alive = Processes.isAlive(pid) && (try? ControlBlock.startTicks(pid: pid)) == block.supervisorStartTicks
        let now = MonotonicClock.nanoseconds()
        let workers = (0..<block.maxWorkers).map { index -> Worker in
            let slot = block.slot(index)
            let live = slot.pid > 0 && slot.state != .empty && Processes.isAlive(slot.pid)
            return Worker(
                slot: index, state: "\(slot.state)", pid: slot.pid, numaNode: slot.pid > 0 && slot.numaNode >= 0 ? Int(slot.numaNode) : nil,
                cpus: live ? Processes.allowedCPUs(pid: String(slot.pid)) : nil,
                heartbeatAgeMs: slot.heartbeatNanoseconds > 0 ? Double(now &- slot.heartbeatNanoseconds) / 1e6 : nil,
                rssBytes: slot.rssBytes, pssBytes: slot.pssBytes, inflight: slot.inflight, requests: slot.requests,
                errors: slot.errors, indexGeneration: slot.indexGenerationLoaded, cleanupAcknowledged: slot.cleanupGenerationAcknowledged)
        }
        return FleetStatus(
            supervisor: Supervisor(pid: pid, alive: alive, controlBlock: block.name, maxWorkers: block.maxWorkers,
                                   numaNodes: block.numaNodes, indexGeneration: config.indexGeneration, indexPath: config.indexPath,
                                   globalBudgetBytes: config.globalBudget, workerSoftLimitBytes: config.workerSoftLimit,
                                   workerHardLimitBytes: config.workerHardLimit, cleanupGeneration: block.cleanupGeneration,
                                   shutdownRequested: block.shutdownRequested),
            workers: workers)
    }

    /// A table for people.
    public var text: String {
        let s = supervisor
        var lines = [
            "supervisor pid \(s.pid) \(s.alive ? "running" : "NOT RUNNING (stale control block)"); \(s.maxWorkers) workers, \(s.numaNodes) NUMA node(s); control block \(s.controlBlock)",
            "index generation \(s.indexGeneration) (\(s.indexPath)); worker limits soft \(ByteSize.format(s.workerSoftLimitBytes)), hard \(ByteSize.format(s.workerHardLimitBytes)); cleanup generation \(s.cleanupGeneration)",
            "",
            pad(["slot", "state", "pid", "node", "cpus", "heartbeat", "rss", "pss", "inflight", "requests", "errors", "gen", "cleanup"]),
        ]
        for w in workers {
            lines.append(pad([
                String(w.slot), w.state, String(w.pid), w.numaNode.map(String.init) ?? "-", w.cpus ?? "-",
                w.heartbeatAgeMs.map { String(format: "%.0f ms", $0) } ?? "-",
                ByteSize.format(w.rssBytes), ByteSize.format(w.pssBytes), String(w.inflight), String(w.requests),
                String(w.errors), String(w.indexGeneration), String(w.cleanupAcknowledged),
            ]))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ cells: [String]) -> String {
        let widths = [4, 9, 8, 4, 10, 10, 10, 10, 8, 9, 7, 5, 7]
        return zip(cells, widths).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }.joined(separator: " ")
    }
}
