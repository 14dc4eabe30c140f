import ArgumentParser
import CodeSageCore

/// `codesage index PATH`: builds or updates the index of a repository.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index", abstract: "Index a repository (discovery, chunking, embeddings, FAISS + FTS5). Not in this build yet.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The repository root.") var path: String = "."
    @Flag(name: .long, help: "Discard the existing index and build from scratch.") var rebuild = false

    func run() async throws {
        try await CLI.run {
            _ = try global.loadConfiguration()
            throw CLI.notBuiltYet("indexing (`codesage index`)")
        }
    }
}

/// `codesage search QUERY`: searches an indexed repository.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search an indexed repository (semantic, keyword, regex or hybrid). Not in this build yet.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "What to look for.") var query: String
    @Option(name: .long, help: "The repository root.") var path: String = "."
    @Flag(name: .long, help: "Print JSON on stdout.") var json = false

    func run() async throws {
        try await CLI.run {
            _ = try global.loadConfiguration()
            throw CLI.notBuiltYet("search (`codesage search`)")
        }
    }
}

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
