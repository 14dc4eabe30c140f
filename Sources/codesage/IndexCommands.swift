import ArgumentParser
import CodeSageCore
import Foundation
import Indexing
import Platform
import Search

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

    func run() async throws {
        try await CLI.run {
            let configuration = try global.loadConfiguration()
            let layout = try IndexSetup.layout(root: path, configuration: configuration)
            let embedder = try IndexSetup.embedder(configuration)
            var options = IndexOptions(configuration: configuration)
            options.rebuild = rebuild
            options.waitForLock = wait
            let bar = ProgressBar(enabled: StandardStreams.standardErrorIsTerminal && !json)
            let report = try Indexer(layout: layout, embedder: embedder, options: options)
                .run(progress: { phase, done, total in bar.update(phase.rawValue, done, total) })
            bar.finish()
            if json {
                FileHandle.standardOutput.write(IndexSetup.json(report) + Data("\n".utf8))
            } else {
                let recall = report.recallAt10.map { String(format: ", recall@10 %.3f", $0) } ?? ""
                StandardStreams.writeError(
                    "indexed \(layout.root): \(report.files) files, \(report.chunks) chunks (\(report.added) new, \(report.changed) changed, "
                    + "\(report.deleted) deleted, \(report.skipped) unchanged); \(report.embedded) embedded, \(report.reused) reused; "
                    + "\(report.indexType.isEmpty ? "no vectors" : report.indexType)\(recall); generation \(report.generation) in "
                    + String(format: "%.2f s", report.seconds))
                if report.excluded > 0 {
                    let reasons = report.excludedByReason.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
                    StandardStreams.writeError("left out \(report.excluded) paths (\(reasons)); `--json` lists them")
                }
            }
        }
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
            let layout = try IndexSetup.layout(root: path, configuration: configuration)
            let snapshot = try IndexSnapshot.open(layout: layout, memoryMap: configuration.memoryMappedIndexes)
            let embedder = try IndexSetup.embedder(configuration)
            guard snapshot.manifest.model.identity == embedder.identity else {
                throw CodeSageError(.invalidConfiguration,
                    "the index was built with \(snapshot.manifest.model.identity) but the configured model is \(embedder.identity); re-run `codesage index`")
            }
            let engine = SearchEngine(snapshot: snapshot, embedder: embedder)
            let results = try engine.search(SearchRequest(
                query: query, mode: searchMode, limit: limit,
                filter: PathFilter(fileTypes: fileTypes, excludePatterns: excludes)))
            if json {
                FileHandle.standardOutput.write(IndexSetup.json(results) + Data("\n".utf8))
            } else {
                var out = ""
                for (rank, result) in results.enumerated() {
                    out += "\(rank + 1). \(result.path):\(result.startLine)-\(result.endLine)"
                    out += result.symbol.map { "  \($0)" } ?? ""
                    out += String(format: "  (%.4f)", result.score) + (result.stale ? "  [stale]" : "") + "\n"
                    out += result.snippet.split(separator: "\n", omittingEmptySubsequences: false).prefix(4).map { "     \($0)\n" }.joined()
                }
                FileHandle.standardOutput.write(Data(out.utf8))
            }
        }
    }
}

/// What `index` and `search` share: the root, the model, JSON output.
enum IndexSetup {
    /// The layout of `root` (made absolute and resolved); CODESAGE_INDEX_DIR overrides the folder.
    static func layout(root: String, configuration: Configuration) throws(CodeSageError) -> IndexLayout {
        let resolved = try FileSystem.realPath(resolving: root)
        guard (try? FileSystem.status(of: resolved, followingLinks: true))?.kind == .directory else {
            throw CodeSageError(.invalidArgument, "\(root) is not a folder")
        }
        return IndexLayout(root: resolved, indexDirectory: configuration.indexDirectory)
    }

    /// The configured model as a text embedder.
    static func embedder(_ configuration: Configuration) throws(CodeSageError) -> EncoderEmbedder {
        try EncoderEmbedder(encoder: EncoderLoader.load(configuration), modelDirectory: configuration.modelPath)
    }

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
            let layout = try IndexSetup.layout(root: path, configuration: configuration)
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
