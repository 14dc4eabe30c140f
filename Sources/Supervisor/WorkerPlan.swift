import CodeSageCore
import Platform

/// Where each worker runs: its NUMA node and the CPUs it is bound to.
public struct WorkerPlacement: Sendable, Equatable, Encodable {
    public var slot: Int
    /// The node (kernel number); nil when NUMA placement is off.
    public var node: Int?
    /// The CPUs to bind to; nil when binding is off.
    public var cpus: [Int]?

    public init(slot: Int, node: Int?, cpus: [Int]?) {
        self.slot = slot
        self.node = node
        self.cpus = cpus
    }
}

/// Plans workers over a topology: CODESAGE_NUMA_NODE puts all of them on one node, CODESAGE_NUMA_AWARE
/// spreads them round-robin over the nodes that have CPUs, and CODESAGE_THREAD_AFFINITY chooses the CPUs
/// (auto: the node's; none; or an explicit list for every worker).
public enum WorkerPlan {
    public static func make(workers: Int, nodes: [Topology.Node], numaAware: Bool, forcedNode: Int?,
                            affinity: CPUAffinity) throws(CodeSageError) -> [WorkerPlacement] {
        let usable = nodes.filter { !$0.cpus.isEmpty }
        var chosen: [Topology.Node] = []
        if let forcedNode {
            guard let node = usable.first(where: { $0.id.rawValue == forcedNode }) else {
                let known = usable.map { String($0.id.rawValue) }.joined(separator: ", ")
                throw CodeSageError(.invalidConfiguration, "CODESAGE_NUMA_NODE=\(forcedNode): no such node with CPUs (nodes: \(known))")
            }
            chosen = [node]
        } else if numaAware {
            chosen = usable
        }
        return (0..<workers).map { slot in
            let node = chosen.isEmpty ? nil : chosen[slot % chosen.count]
            let cpus: [Int]?
            switch affinity {
            case .none: cpus = nil
            case .cpus(let list): cpus = list
            case .automatic: cpus = node?.cpus
            }
            return WorkerPlacement(slot: slot, node: node?.id.rawValue, cpus: cpus)
        }
    }
}
