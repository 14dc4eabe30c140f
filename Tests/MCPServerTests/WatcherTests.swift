import Foundation
import Logging
import MCP
import Testing
@testable import CodeSageCore
@testable import CodeSageService
@testable import IndexStore
@testable import MCPServer
@testable import Platform
@testable import SourceModel

/// A tree on disk, a workspace that watches it, and ways to see what its published index holds.
private final class WatchedTree {
    let root: String
    let workspace: Workspace
    let table: ToolTable

    init(files: [String: String] = ["a.py": "def alpha():\n    return 1\n"], environment: [String: String] = [:]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-watch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        root = try FileSystem.realPath(resolving: folder)
        let configuration = try Configuration(environment: ["CODESAGE_WATCH_DEBOUNCE_MS": "50"].merging(environment) { $1 },
                                              home: "/h", onlineCPUs: 2)
        let embedder = SlowWordEmbedder(delay: 0)
        workspace = Workspace(configuration: configuration, startBackgroundWork: false) { () throws(CodeSageError) in embedder }
        workspace.enableWatching(logger: Logger(label: "watch-test"))
        table = CodeToolTable.make(workspace: workspace)
        for (path, text) in files { try write(path, text) }
    }

    deinit {
        workspace.stopBackgroundWork()
        try? FileManager.default.removeItem(atPath: root)
    }

    func write(_ path: String, _ text: String) throws {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func move(_ from: String, _ to: String) throws {
        try FileManager.default.moveItem(atPath: root + "/" + from, toPath: root + "/" + to)
    }

    func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: root + "/" + path) }

    func call(_ name: String, _ arguments: [String: Value]) async -> (text: String, isError: Bool) {
        let result = await table.call(.init(name: name, arguments: arguments))
        guard case .text(let text, _, _)? = result.content.first else { return ("", result.isError == true) }
        return (text, result.isError == true)
    }

    /// The paths and content hashes of the published generation.
    func indexed() -> [String: [UInt8]] {
        let layout = IndexLayout(root: root)
        guard let manifest = try? IndexManifest.read(path: layout.manifestPath),
              let store = try? IndexStore(path: layout.storePath),
              let files = try? store.files(at: manifest.generation) else { return [:] }
        return files.mapValues(\.contentHash)
    }

    /// Whether every chunk of the published generation is searchable by meaning (nothing pending).
    func fullyEmbedded() -> Bool {
        (try? IndexManifest.read(path: IndexLayout(root: root).manifestPath))??.pendingChunks == 0
    }

    /// Every indexable file of the tree now (what a clean `codesage index` would hold), with its hash.
    func onDisk() -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for file in (try? FileDiscovery.discover(root: root).files) ?? [] {
            if let bytes = try? FileSystem.readFile(root + "/" + file.relativePath) { files[file.relativePath] = ContentHash.of(bytes) }
        }
        return files
    }

    var watcher: RootWatcher? { workspace.watchers[root] }

    /// Waits (polling, up to `seconds`) until the published index holds exactly the files on disk, every chunk
    /// embedded, and the watcher has nothing pending and no update running; returns whether it did.
    func settles(within seconds: Double = 30) async -> Bool {
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {
            if let w = watcher?.current, w.pendingChanges == 0, !w.updating, w.mode != .starting, indexed() == onDisk(), !indexed().isEmpty,
               fullyEmbedded() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("not settled: watcher \(String(describing: watcher?.current)); indexed \(indexed().keys.sorted()); on disk \(onDisk().keys.sorted())")
        return false
    }
}

@Suite("Watching a root keeps its index current")
struct WatcherTests {
    @Test("create, modify, delete, rename a file and a folder, an editor's atomic save, a .gitignore edit: each reaches the index on its own")
    func everyKindOfChange() async throws {
        let tree = try WatchedTree(files: ["a.py": "def alpha():\n    return 1\n", "pkg/b.py": "def beta():\n    return 2\n"])
        // Serving the root (an index run through the server) starts its watcher.
        #expect(await tree.call("index_codebase", ["path": .string(tree.root)]).text.contains("generation 1"))
        #expect(await tree.settles())
        #expect(tree.watcher?.current.mode == .watching)

        try tree.write("c.py", "def gamma_unique_name():\n    return 3\n")                 // create
        #expect(await tree.settles())
        let found = await tree.call("search_codebase", ["path": .string(tree.root), "query": "gamma_unique_name", "mode": "keyword"])
        #expect(found.text.contains("c.py"))

        try tree.write("a.py", "def alpha_changed():\n    return 10\n")                    // modify
        #expect(await tree.settles())
        try tree.remove("c.py")                                                           // delete
        #expect(await tree.settles())
        let gone = await tree.call("search_codebase", ["path": .string(tree.root), "query": "gamma_unique_name", "mode": "keyword"])
        #expect(!gone.text.contains("c.py"), "a deleted file never appears once its deletion is processed")

        try tree.move("a.py", "renamed.py")                                               // rename a file
        #expect(await tree.settles())
        try tree.write("deep/er/d.py", "def delta():\n    return 4\n")                     // new folders, file inside
        #expect(await tree.settles())
        try tree.write("deep/er/e.py", "def epsilon():\n    return 5\n")                   // a file in a folder that is new since
        #expect(await tree.settles())
        try tree.move("deep", "moved")                                                    // rename a folder
        #expect(await tree.settles())
        try tree.write("moved/er/f.py", "def zeta():\n    return 6\n")                      // the moved folder is still watched
        #expect(await tree.settles())

        // An editor's save: write a temporary file, then rename it over the original.
        try tree.write(".b.py.swp", "def beta_saved():\n    return 20\n")
        try tree.move(".b.py.swp", "pkg/b.py.tmp")
        try FileManager.default.removeItem(atPath: tree.root + "/pkg/b.py")
        try tree.move("pkg/b.py.tmp", "pkg/b.py")
        #expect(await tree.settles())
        #expect(tree.indexed()["pkg/b.py"] == ContentHash.of(Array("def beta_saved():\n    return 20\n".utf8)))

        // A .gitignore edit: the ignored folder leaves the index (and its watches go), then comes back.
        try tree.write(".gitignore", "moved/\n")
        #expect(await tree.settles())
        #expect(tree.indexed().keys.allSatisfy { !$0.hasPrefix("moved/") })
        try tree.write(".gitignore", "\n")
        #expect(await tree.settles())
        #expect(tree.indexed()["moved/er/f.py"] != nil)

        let status = await tree.call("get_index_status", ["path": .string(tree.root)])
        #expect(!status.isError && status.text.contains("watcher watching") && status.text.contains("0 pending changes"), "\(status.text)")
    }

    @Test("a branch switch of 1,000 files is coalesced into a few updates, and the index equals the tree after it")
    func branchSwitch() async throws {
        let tree = try WatchedTree()
        _ = await tree.call("index_codebase", ["path": .string(tree.root)])
        #expect(await tree.settles())
        let before = tree.watcher?.current.updates ?? 0
        for i in 0..<1_000 {
            try tree.write("branch/m\(i % 20)/f\(i).py", "def handler_\(i)(request):\n    return request.reply(\(i))\n")
        }
        #expect(await tree.settles(within: 120))
        #expect(tree.indexed().count == 1_001)
        let updates = (tree.watcher?.current.updates ?? 0) - before
        #expect(updates >= 1 && updates <= 20, "1,000 writes became \(updates) updates")
        // And back: every one of them deleted.
        try tree.remove("branch")
        #expect(await tree.settles(within: 60))
        #expect(tree.indexed().count == 1)
    }

    @Test("past the watch limit the watcher says why, scans instead, and still keeps the index current")
    func watchLimit() async throws {
        let tree = try WatchedTree(files: ["a.py": "def alpha():\n    return 1\n", "one/b.py": "def beta():\n    return 2\n",
                                          "two/c.py": "def gamma():\n    return 3\n"],
                                   environment: ["CODESAGE_WATCH_SCAN_SECONDS": "1", "CODESAGE_WATCH_MAX_FOLDERS": "2"])
        _ = await tree.call("index_codebase", ["path": .string(tree.root)])
        #expect(await tree.settles())
        let status = try #require(tree.watcher?.current)
        #expect(status.mode == .scanning && status.fallbackReason?.contains("folder limit (2)") == true)
        try tree.write("two/d.py", "def delta():\n    return 4\n")
        #expect(await tree.settles())
        #expect(tree.indexed()["two/d.py"] != nil)
        let text = await tree.call("get_index_status", [:]).text
        #expect(text.contains("watcher scanning") && text.contains("folder limit"), "\(text)")
    }

    @Test("without watching enabled, nothing is watched and get_index_status says so")
    func watchingOff() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesage-nowatch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "def alpha():\n    return 1\n".write(toFile: folder + "/a.py", atomically: true, encoding: .utf8)
        let embedder = SlowWordEmbedder(delay: 0)
        let workspace = Workspace(configuration: try Configuration(environment: [:], home: "/h", onlineCPUs: 2),
                                  startBackgroundWork: false) { () throws(CodeSageError) in embedder }
        let table = CodeToolTable.make(workspace: workspace)
        _ = await table.call(.init(name: "index_codebase", arguments: ["path": .string(folder)]))
        #expect(workspace.watchers.isEmpty)
        let result = await table.call(.init(name: "get_index_status", arguments: ["path": .string(folder)]))
        guard case .text(let text, _, _)? = result.content.first else { Issue.record("no text"); return }
        #expect(text.contains("generation 1") && text.contains("not watched"), "\(text)")
    }
}
