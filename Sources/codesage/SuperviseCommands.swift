import ArgumentParser
import CodeSageCore
import CodeSageService
import Foundation
import IPC
import MCPServer
import Platform
import Supervisor
import Worker

/// `codesage supervise`: the supervisor of NUMA-pinned worker processes on Unix sockets.
struct SuperviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise",
        abstract: "Serve a repository with CODESAGE_PARALLEL_WORKERS worker processes, one Unix socket each, for nginx or HAProxy.",
        discussion: """
        Opens (or builds) the index of --path, creates the control block, and spawns the workers, which \
        serve MCP Streamable HTTP on <socket-dir>/worker-<i>.sock. Crashed or hung workers are replaced; \
        each worker's PSS is held under the soft limit (cleanup) and the hard limit (restart), by default \
        90 % (70 % with CODESAGE_AGGRESSIVE_MEMORY_CLEANUP) and 100 % of CODESAGE_MAX_MEMORY_MB / workers. \
        SIGHUP checks for a new index generation; SIGTERM drains and exits 0. docs/deployment.md has the details.
        """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The repository root.") var path: String = "."
    @Option(name: .long, help: "Folder for the workers' sockets and the supervisor's lock.") var socketDir: String
    @Option(name: .long, help: "Worker count (overrides CODESAGE_PARALLEL_WORKERS).") var workers: Int?
    @Option(name: .long, help: ArgumentHelp("PSS over which a worker is asked to clean up (e.g. 512MB).", valueName: "size"))
    var softLimit: String?
    @Option(name: .long, help: ArgumentHelp("PSS over which a worker is drained and restarted.", valueName: "size"))
    var hardLimit: String?
    @Option(name: .long, help: ArgumentHelp("Seconds without a heartbeat after which a worker is replaced.", valueName: "seconds"))
    var heartbeatTimeout: Double = 3

    func run() async throws {
        try await CLI.run {
            var flags: [String: String] = [:]
            if let workers { flags[SettingCatalog.Name.parallelWorkers] = String(workers) }
            let configuration = try global.loadConfiguration(flags: flags)
            let layout = try Workspace.layout(root: path, indexDirectory: configuration.indexDirectory)
            try FileSystem.makeFolders(socketDir)
            let count = configuration.parallelWorkers
            let topology = try Topology.load()
            let placements = try WorkerPlan.make(workers: count, nodes: topology.nodes, numaAware: configuration.numaAware,
                                                 forcedNode: configuration.numaNode, affinity: configuration.threadAffinity)
            let hard = try limit(hardLimit, name: "--hard-limit") ?? configuration.maxMemoryBytes / UInt64(count)
            let soft = try limit(softLimit, name: "--soft-limit") ?? UInt64(Double(hard) * configuration.cleanupThreshold)
            var options = Supervisor.Options(
                layout: layout, socketDirectory: try FileSystem.realPath(resolving: socketDir),
                executable: try ProcessInfoReader.executablePath(), environment: Self.workerEnvironment(),
                placements: placements, numaNodes: topology.nodes.count, globalBudget: configuration.maxMemoryBytes,
                softLimit: soft, hardLimit: hard)
            options.sharedArguments = global.passedOn
            options.heartbeatTimeout = .milliseconds(Int(heartbeatTimeout * 1000))
            options.watchIndex = configuration.watchEnabled
            try await Supervisor(options: options, logger: CLI.logger).run()
        }
    }

    private func limit(_ text: String?, name: String) throws(CodeSageError) -> UInt64? {
        guard let text else { return nil }
        guard let bytes = ByteSize.parse(text), bytes > 0 else {
            throw CodeSageError(.invalidArgument, "\(name) \(text): not a size such as 512MB")
        }
        return bytes
    }

    /// This process's environment plus one thread per worker for OpenMP and OpenBLAS and a passive OpenMP
    /// wait policy (libgomp reads them only at load), unless the operator set them.
    static func workerEnvironment() -> [String: String] {
        var environment = ProcessInfoReader.environment()
        for (name, value) in ["OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"]
        where environment[name] == nil {
            environment[name] = value
        }
        return environment
    }
}

/// `codesage worker`: one worker process, spawned by `codesage supervise` (hidden).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "A worker process; started by `codesage supervise`.", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The worker's slot in the control block.") var slot: Int
    @Option(name: .long, help: "Folder of the workers' sockets.") var socketDir: String
    @Option(name: .long, help: "The repository root the supervisor serves.") var path: String
    @Option(name: .long, help: "The control block's shared-memory name.") var controlBlock: String
    @Option(name: .long, help: "The supervisor's pid (the control block must be its).") var supervisorPid: Int32
    @Option(name: .long, help: "The planned NUMA node.") var node: Int?
    @Option(name: .long, help: "The planned CPUs, e.g. 0-3,8.") var cpus: String?

    func run() async throws {
        // Placement first, before this process starts threads of its own (later threads inherit it).
        let threadsBefore = Processes.threadIDs().count
        let plannedCPUs: [Int]? = try cpus.map { text in
            guard case .cpus(let list)? = CPUAffinity.parse(text) else { throw ValidationError("--cpus \(text): not a CPU list") }
            return list
        }
        let topology = try? Topology.load()
        let pinning = topology.map { WorkerPinning.apply(node: node, cpus: plannedCPUs, topology: $0) }
        try await CLI.run {
            // Workers exist to share one index: unless the operator chose otherwise, map it whatever its size.
            let mapping = SettingCatalog.Name.memoryMappedIndexes
            let loaded = try global.loadConfiguration()
            let configuration = loaded.setting(mapping).source == .defaultValue
                ? try global.loadConfiguration(flags: [mapping: "true"]) : loaded
            if let pinning {
                let cpus = pinning.boundCPUs.map { "CPUs \(CPUAffinity.compress($0)) (\(pinning.threadsBound) of \(threadsBefore) threads then)" } ?? "no CPU binding"
                CLI.logger.info("worker \(slot): \(cpus), node \(node.map(String.init) ?? "-")\(pinning.memoryPreferred ? " preferred for memory" : "")\(pinning.notes.isEmpty ? "" : "; " + pinning.notes.joined(separator: "; "))")
            }
            let workspace = Workspace(configuration: configuration, startBackgroundWork: false)
            let table = CodeToolTable.make(workspace: workspace)
            let options = WorkerRuntime.Options(
                slot: slot, socketDirectory: socketDir, root: path, controlBlockName: controlBlock,
                supervisorPID: supervisorPid, supervisorStartTicks: try ControlBlock.startTicks(pid: supervisorPid),
                numaNode: Int32(node ?? -1))
            let runtime = try WorkerRuntime(options: options, workspace: workspace, table: table, logger: CLI.logger)
            do {
                try await ServerLifecycle.run(runtime, workspace: workspace, logger: CLI.logger)
            } catch {
                throw CodeSageError(.internal, "worker \(slot) stopped", cause: error)
            }
        }
    }
}

/// `codesage status`: the fleet of a running supervisor, from its control block.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a supervisor's workers: state, placement, heartbeat, memory, requests, generations.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The supervisor's socket folder.") var socketDir: String
    @Flag(name: .long, help: "Print JSON on stdout.") var json = false

    func run() async throws {
        try await CLI.run {
            _ = try global.loadConfiguration()
            let status = try FleetStatus.read(socketDirectory: socketDir)
            print(json ? JSONOutput.text(status) : status.text)
        }
    }
}
