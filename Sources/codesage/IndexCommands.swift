import ArgumentParser
import CodeSageCore
import Foundation
import CodeSageService
import IndexStore
import Indexing
import Platform
import Search
import ServiceLifecycle
import Synchronization

/// `codesage index PATH`: builds or updates the index of a repository.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index a repository: discovery, chunking, embeddings, FAISS + FTS5; incremental, crash-safe generations.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The repository root.") var path: String = "."
    @Flag(name: .long, help: "Re-read and re-chunk every file (cached vectors are still reused).") var rebuild = false
    @Flag(name: .long, help: "Wait for another index run on this root instead of failing (exit 75).") var wait = false
    @Flag(name: .long, help: "Print the report as JSON on stdout.") var json = false
    @Flag(name: .long, help: "Keep watching after the first run: every change is indexed on its own (until SIGTERM or SIGINT).") var watch = false

    func validate() throws {
        if watch && json { throw ValidationError("--watch logs each update on stderr; it cannot be combined with --json") }
    }

    func run() async throws {
        try await CLI.run {
            let configuration = try global.loadConfiguration()
            let layout = try Workspace.layout(root: path, indexDirectory: configuration.indexDirectory)
            let embedder = try ModelLoading.embedder(configuration)
            var options = IndexOptions(configuration: configuration)
            options.rebuild = rebuild
            options.waitForLock = wait
            if watch { return try await watchForever(layout: layout, embedder: embedder, options: options, configuration: configuration) }
            let bar = ProgressBar(enabled: StandardStreams.standardErrorIsTerminal && !json)
            let report = try Indexer(layout: layout, embedder: embedder, options: options)
                .run(progress: { phase, done, total in bar.update(phase.rawValue, done, total) })
            bar.finish()
            if json {
                FileHandle.standardOutput.write(IndexSetup.json(report) + Data("\n".utf8))
            } else {
                StandardStreams.writeError("indexed \(layout.root): " + report.text(excludedListedIn: "`--json`"))
            }
        }
    }
}

extension IndexCommand {
    /// `--watch`: the first run, then one after every burst of changes, each logged, until SIGTERM or SIGINT.
    func watchForever(layout: IndexLayout, embedder: any TextEmbedder, options: IndexOptions,
                      configuration: Configuration) async throws(CodeSageError) {
        let first = options
        let later = { var o = options; o.rebuild = false; o.waitForLock = true; return o }()
        let runs = Atomic<Int>(0)
        let watcher = RootWatcher(
            root: layout.root, options: RootWatcher.Options(configuration: configuration), logger: CLI.logger,
            ignoredNames: Workspace.watchIgnoredNames(layout),
            update: { discovered throws(CodeSageError) in
                let isFirst = runs.add(1, ordering: .relaxed).oldValue == 0
                return try Indexer(layout: layout, embedder: embedder, options: isFirst ? first : later).run(discovered: discovered)
            },
            published: { report in CLI.logger.info("indexed \(layout.root): \(report.text(excludedListedIn: "`codesage index --json`"))") })
        CLI.logger.info("watching \(layout.root) (CODESAGE_WATCH_DEBOUNCE_MS \(configuration.watchDebounce)); SIGTERM or SIGINT stops")
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: RootWatchService(watcher: watcher), successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: CLI.logger))
        do { try await group.run() } catch { throw CodeSageError(.internal, "the watcher stopped", cause: error) }
    }
}

/// `codesage search QUERY`: searches an indexed repository.
struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search an indexed repository: hybrid (default), semantic or lexical.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "What to look for.") var query: String
    @Option(name: .long, help: "The repository root.") var path: String = "."
    @Option(name: .long, help: "hybrid, semantic or lexical.") var mode: String = "hybrid"
    @Option(name: .long, help: "Most results to return.") var limit: Int = 10
    @Option(name: .customLong("file-type"), help: "Only these extensions or languages (repeatable), e.g. py, .go, rust.") var fileTypes: [String] = []
    @Option(name: .customLong("exclude"), help: "Leave out paths matching this .gitignore-style pattern (repeatable).") var excludes: [String] = []
    @Flag(name: .long, help: "Print a JSON array of results on stdout.") var json = false

    func run() async throws {
        try await CLI.run {
            let configuration = try global.loadConfiguration()
            guard let searchMode = SearchMode(rawValue: mode) else {
                throw CodeSageError(.invalidArgument, "--mode must be one of hybrid, semantic, lexical (got \"\(mode)\")")
            }
            let workspace = Workspace(configuration: configuration, startBackgroundWork: false)
            let answer = try workspace.search(SearchRequest(query: query, mode: searchMode, limit: limit,
                                                            filter: PathFilter(fileTypes: fileTypes, excludePatterns: excludes)),
                                              root: path, modeName: mode)
            if json {
                FileHandle.standardOutput.write(IndexSetup.json(answer.results) + Data("\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data((answer.text + "\n").utf8))
            }
        }
    }
}

/// JSON output of the commands.
enum IndexSetup {
    /// Pretty JSON with snake_case keys.
    static func json(_ value: some Encodable) -> Data { Data(JSONOutput.text(value).utf8) }
}

/// A one-line progress bar on stderr (only drawn on a terminal).
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var drawn = false

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ phase: String, _ done: Int, _ total: Int) {
        guard enabled, ContinuousClock.now - lastDraw > .milliseconds(100) else { return }
        lastDraw = .now
        var line = "\r\u{1B}[2K" + phase
        if total > 0 {
            let width = 30
            let filled = min(width, done * width / total)
            line += " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(done)/\(total)"
        }
        FileHandle.standardError.write(Data(line.utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}

/// `codesage check`: verifies a repository's published index generation without changing it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify an index: manifest, SQLite integrity_check, file and chunk counts, the FAISS file and its vector count.",
        discussion: "Exits 0 when sound, 65 when damaged (each problem names its file; `codesage index --rebuild` recovers), 66 when the root has no index.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The repository root.") var path: String = "."
    @Flag(name: .long, help: "Print the report as JSON on stdout.") var json = false

    func run() async throws {
        try await CLI.run {
            let configuration = try global.loadConfiguration()
            let layout = try Workspace.layout(root: path, indexDirectory: configuration.indexDirectory)
            let report = try IndexCheck.run(layout: layout)
            if json {
                FileHandle.standardOutput.write(IndexSetup.json(report) + Data("\n".utf8))
            } else {
                let vectors = report.vectors.map { ", \($0) vectors" } ?? ""
                print("\(report.root): generation \(report.generation), \(report.files) files, \(report.chunks) chunks\(vectors): "
                      + (report.sound ? "sound" : "DAMAGED"))
                for problem in report.problems { print("  \(problem)") }
            }
            if !report.sound {
                throw CodeSageError(.corruptData, "\(report.problems.count) problem(s) in the index of \(report.root); `codesage index --rebuild \(report.root)` rebuilds it")
            }
        }
    }
}
