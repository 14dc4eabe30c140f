import CodeSageCore
import Platform
import Supervisor
import Testing
import Worker

@Suite("Worker plan over NUMA topologies")
struct WorkerPlanTests {
    static let twoNodes = [Topology.Node(id: NUMANode(0), cpus: Array(0..<8)), Topology.Node(id: NUMANode(1), cpus: Array(8..<16))]

    @Test("NUMA-aware: round-robin over the nodes, each worker on its node's CPUs")
    func spread() throws {
        let plan = try WorkerPlan.make(workers: 4, nodes: Self.twoNodes, numaAware: true, forcedNode: nil, affinity: .automatic)
        #expect(plan.map(\.node) == [0, 1, 0, 1])
        #expect(plan[1].cpus == Array(8..<16) && plan[2].cpus == Array(0..<8))
    }

    @Test("CODESAGE_NUMA_NODE puts every worker on that node; an unknown node is a configuration error")
    func forced() throws {
        let plan = try WorkerPlan.make(workers: 3, nodes: Self.twoNodes, numaAware: true, forcedNode: 1, affinity: .automatic)
        #expect(plan.allSatisfy { $0.node == 1 && $0.cpus == Array(8..<16) })
        #expect(throws: CodeSageError.self) {
            try WorkerPlan.make(workers: 1, nodes: Self.twoNodes, numaAware: true, forcedNode: 7, affinity: .automatic)
        }
    }

    @Test("affinity none, an explicit list, and NUMA awareness off")
    func affinity() throws {
        let none = try WorkerPlan.make(workers: 2, nodes: Self.twoNodes, numaAware: true, forcedNode: nil, affinity: .none)
        #expect(none.map(\.node) == [0, 1] && none.allSatisfy { $0.cpus == nil })
        let list = try WorkerPlan.make(workers: 2, nodes: Self.twoNodes, numaAware: false, forcedNode: nil, affinity: .cpus([2, 3]))
        #expect(list.allSatisfy { $0.node == nil && $0.cpus == [2, 3] })
        let off = try WorkerPlan.make(workers: 2, nodes: Self.twoNodes, numaAware: false, forcedNode: nil, affinity: .automatic)
        #expect(off.allSatisfy { $0.node == nil && $0.cpus == nil })
    }

    @Test("nodes without CPUs (memory-only) get no workers")
    func memoryOnlyNodes() throws {
        let nodes = Self.twoNodes + [Topology.Node(id: NUMANode(2), cpus: [])]
        let plan = try WorkerPlan.make(workers: 3, nodes: nodes, numaAware: true, forcedNode: nil, affinity: .automatic)
        #expect(plan.map(\.node) == [0, 1, 0])
    }

    @Test("on this machine, pinning to the first node's CPUs binds every thread or is a recorded no-op")
    func pinningHere() throws {
        let topology = try Topology.load()
        let outcome = WorkerPinning.apply(node: topology.nodes[0].id.rawValue, cpus: topology.nodes[0].cpus, topology: topology)
        if topology.isThisSystem {
            #expect(outcome.boundCPUs == topology.nodes[0].cpus)
            #expect(outcome.threadsBound >= 1)
            #expect(Processes.allowedCPUs() != nil)
        } else {
            #expect(outcome.boundCPUs == nil && !outcome.notes.isEmpty)
        }
        if topology.nodes.count == 1 { #expect(!outcome.memoryPreferred && !outcome.notes.isEmpty) }
    }
}
