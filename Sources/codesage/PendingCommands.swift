import ArgumentParser
import CodeSageCore

/// `codesage supervise`: the supervisor of NUMA-pinned worker processes.
struct SuperviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise", abstract: "Run a supervisor and CODESAGE_PARALLEL_WORKERS workers on Unix sockets. Not in this build yet.")

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The repository root.") var path: String = "."
    @Option(name: .long, help: "Folder for the workers' sockets.") var socketDir: String
    @Option(name: .long, help: "Worker count (overrides CODESAGE_PARALLEL_WORKERS).") var workers: Int?

    func run() async throws {
        try await CLI.run {
            var flags: [String: String] = [:]
            if let workers { flags[SettingCatalog.Name.parallelWorkers] = String(workers) }
            _ = try global.loadConfiguration(flags: flags)
            throw CLI.notBuiltYet("the supervisor (`codesage supervise`)")
        }
    }
}

/// `codesage worker`: one worker process, spawned by the supervisor (hidden).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "A worker process; started by `codesage supervise`.", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "The worker's slot in the control block.") var slot: Int

    func run() async throws {
        try await CLI.run {
            _ = try global.loadConfiguration()
            throw CLI.notBuiltYet("worker processes (`codesage worker`)")
        }
    }
}
