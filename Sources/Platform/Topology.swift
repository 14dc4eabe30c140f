import CHwloc
import CPlatform
import CNuma
import CodeSageCore
#if canImport(Glibc)
import Glibc
#endif

/// A NUMA node number as the kernel numbers it.
public struct NUMANode: Hashable, Sendable, CustomStringConvertible {
    /// The kernel's node number (os_index).
    public let rawValue: Int
    /// Wraps a node number.
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public var description: String { "node \(rawValue)" }
}

/// The machine's processors and memory nodes, from hwloc, plus libnuma's view of NUMA support.
public struct Topology: Sendable {
    /// One NUMA node and the CPUs (OS numbers) close to it.
    public struct Node: Sendable {
        public let id: NUMANode
        public let cpus: [Int]
        /// A node and its CPUs.
        public init(id: NUMANode, cpus: [Int]) {
            self.id = id
            self.cpus = cpus
        }
    }

    /// NUMA nodes in os_index order; a machine without NUMA reports one node holding every CPU.
    public let nodes: [Node]
    /// Physical packages (sockets).
    public let packages: Int
    /// Physical cores.
    public let cores: Int
    /// Hardware threads.
    public let processingUnits: Int
    /// Whether libnuma reports NUMA support in the kernel (numa_available() == 0).
    public let numaAvailable: Bool
    /// libnuma's highest node number, or 0 without NUMA support.
    public let numaMaxNode: Int
    /// Whether the topology describes this machine (false for HWLOC_SYNTHETIC or an HWLOC_XMLFILE of
    /// another host: plans can be made from it, but binding to its CPUs would be meaningless).
    public var isThisSystem = true

    /// Loads the topology with hwloc and asks libnuma about NUMA support.
    public static func load() throws(CodeSageError) -> Topology {
        var topology: hwloc_topology_t?
        guard hwloc_topology_init(&topology) == 0, let topology else {
            throw CodeSageError(.native, "hwloc_topology_init failed")
        }
        defer { hwloc_topology_destroy(topology) }
        guard hwloc_topology_load(topology) == 0 else {
            throw CodeSageError(.native, "hwloc_topology_load failed: \(SystemCall.errnoText(errno))")
        }
        func count(_ type: hwloc_obj_type_t) -> Int { Int(max(0, hwloc_get_nbobjs_by_type(topology, type))) }

        var nodes: [Node] = []
        for index in 0..<count(HWLOC_OBJ_NUMANODE) {
            guard let object = hwloc_get_obj_by_type(topology, HWLOC_OBJ_NUMANODE, UInt32(index)) else { continue }
            nodes.append(Node(id: NUMANode(Int(object.pointee.os_index)), cpus: cpuList(object.pointee.cpuset)))
        }
        let processingUnits = count(HWLOC_OBJ_PU)
        if nodes.isEmpty {
            let all = hwloc_topology_get_complete_cpuset(topology)
            nodes = [Node(id: NUMANode(0), cpus: cpuList(all))]
        }
        let available = numa_available() == 0
        var loaded = Topology(nodes: nodes.sorted { $0.id.rawValue < $1.id.rawValue },
                              packages: max(1, count(HWLOC_OBJ_PACKAGE)),
                              cores: max(1, count(HWLOC_OBJ_CORE)),
                              processingUnits: max(1, processingUnits),
                              numaAvailable: available,
                              numaMaxNode: available ? Int(numa_max_node()) : 0)
        loaded.isThisSystem = hwloc_topology_is_thissystem(topology) != 0
        return loaded
    }

    /// The OS numbers of the CPUs in an hwloc bitmap.
    private static func cpuList(_ set: hwloc_const_bitmap_t?) -> [Int] {
        guard let set else { return [] }
        var cpus: [Int] = []
        var cpu = hwloc_bitmap_first(set)
        while cpu >= 0 {
            cpus.append(Int(cpu))
            cpu = hwloc_bitmap_next(set, cpu)
        }
        return cpus
    }
}

/// Binds the calling thread to CPUs and memory nodes.
public enum Placement {
    /// Restricts the calling thread (and threads it creates later) to `cpus`.
    public static func bindCurrentThread(toCPUs cpus: [Int]) throws(CodeSageError) {
        guard !cpus.isEmpty else { throw CodeSageError(.invalidArgument, "empty CPU list") }
        let status = cpus.map { Int32(clamping: $0) }.withUnsafeBufferPointer { cs_bind_task_to_cpus(0, $0.baseAddress, $0.count) }
        if status != 0 { throw CodeSageError(.invalidArgument, "cannot bind to CPUs \(cpus): \(SystemCall.errnoText(errno))") }
    }

    /// Prefers memory from `node` for the calling thread's future allocations (libnuma);
    /// a no-op returning false when the kernel has no NUMA support.
    @discardableResult
    public static func preferMemory(on node: NUMANode) throws(CodeSageError) -> Bool {
        guard numa_available() == 0 else { return false }
        guard node.rawValue >= 0, node.rawValue <= Int(numa_max_node()) else {
            throw CodeSageError(.invalidArgument, "NUMA \(node) does not exist (highest is \(numa_max_node()))")
        }
        numa_set_preferred(Int32(node.rawValue))
        return true
    }
}
