import CodeSageCore
import Platform

/// Applies a worker's placement (its NUMA node and CPUs, as the supervisor planned them) to the
/// calling process. Run it first, before the worker starts threads of its own: threads started later
/// inherit the CPU binding and the memory policy of the thread that starts them.
public enum WorkerPinning {
    /// What was done, for the log.
    public struct Outcome: Sendable, Equatable {
        /// CPUs the process is now bound to (nil: left unbound).
        public var boundCPUs: [Int]?
        /// Threads that existed and were bound.
        public var threadsBound = 0
        /// Whether memory is now preferred from the node.
        public var memoryPreferred = false
        /// Why something planned was not done (a no-op is logged, never an error).
        public var notes: [String] = []
    }

    /// Binds the process's threads to `cpus` and prefers memory from `node`, where that means something
    /// on this machine: a topology that is not this machine's (HWLOC_SYNTHETIC, an HWLOC_XMLFILE of
    /// another host) or a machine without NUMA makes the binding a recorded no-op.
    public static func apply(node: Int?, cpus: [Int]?, topology: Topology) -> Outcome {
        var outcome = Outcome()
        guard topology.isThisSystem else {
            outcome.notes.append("the topology is not this machine's (synthetic or another host's): placement recorded, not applied")
            return outcome
        }
        if let cpus, !cpus.isEmpty {
            do {
                outcome.threadsBound = try Processes.bindAllThreads(toCPUs: cpus)
                outcome.boundCPUs = cpus
            } catch {
                outcome.notes.append("CPU binding skipped: \(error.description)")
            }
        }
        if let node {
            if topology.nodes.count < 2 || !topology.numaAvailable {
                outcome.notes.append("one NUMA node: the memory policy is left as it is")
            } else {
                do {
                    outcome.memoryPreferred = try Placement.preferMemory(on: NUMANode(node))
                } catch {
                    outcome.notes.append("memory policy skipped: \(error.description)")
                }
            }
        }
        return outcome
    }
}
