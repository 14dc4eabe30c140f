import Foundation
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import Platform
@testable import Search

/// A small repository: Python, Go, Markdown, a test file, an ignored folder, a binary file and a duplicate.
func makeRepository() throws -> TreeFixture {
    let tree = try TreeFixture()
    try tree.write(".gitignore", "build/\n")
    try tree.write("src/geometry.py", """
        import math


        def circle_area(radius):
            return math.pi * radius * radius


        class Shape:
            def perimeter(self):
                return 0
        """)
    try tree.write("src/server.go", """
        package server

        func StartServer(port int) error {
        \treturn listen(port)
        }
        """)
    try tree.write("tests/test_geometry.py", "def test_circle_area():\n    assert circle_area(1) > 3\n")
    try tree.write("docs/notes.md", "Notes about the circle area and the server.\n")
    let copy = "def normalise_whitespace(text):\n    words = text.split()\n    return ' '.join(words)\n"
    try tree.write("src/copy_a.py", copy)
    try tree.write("lib/copy_b.py", copy)
    try tree.write("build/out.py", "def ignored_function():\n    pass\n")
    try tree.write("blob.bin", bytes: [0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2])
    return tree
}

/// Writes `text` to `path` and moves its modification time forward, as an editor would.
func edit(_ tree: TreeFixture, _ path: String, _ text: String) throws {
    try tree.write(path, text)
    let later = Date().addingTimeInterval(Double.random(in: 10...1000))
    try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: tree.root + "/" + path)
}

/// Paths of the chunks a lexical search for `query` returns.
func lexicalPaths(_ layout: IndexLayout, _ query: String, embedder: any TextEmbedder) throws -> [String] {
    let engine = SearchEngine(snapshot: try IndexSnapshot.open(layout: layout), embedder: embedder)
    return try engine.search(SearchRequest(query: query, mode: .lexical, limit: 20)).map(\.path)
}

@Suite("Indexer: generations, incremental runs, crashes, the lock")
struct IndexerTests {
    @Test("a first run indexes every text file the ignore rules allow and publishes generation 1")
    func firstRun() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let report = try Indexer(layout: layout, embedder: WordHashEmbedder()).run()
        #expect(report.published && report.generation == 1)
        let store = try IndexStore(path: layout.storePath)
        let paths = Set(try store.files(at: 1).keys)
        #expect(paths.isSuperset(of: ["src/geometry.py", "src/server.go", "tests/test_geometry.py", "docs/notes.md", "src/copy_a.py", "lib/copy_b.py"]))
        #expect(!paths.contains("build/out.py") && !paths.contains("blob.bin"))
        #expect(report.excluded >= 2)  // build/ and the binary
        let stored = try store.counts(at: 1)
        #expect(report.files == paths.count && report.chunks == stored.chunks)

        let manifest = try #require(try IndexManifest.read(path: layout.manifestPath))
        #expect(manifest.generation == 1 && manifest.files == report.files && manifest.chunks == report.chunks)
        let vectors = try #require(manifest.vectors)
        #expect(vectors.factory == "IVF1,Flat" && vectors.exact && vectors.recallAt10 == 1 && vectors.count == report.chunks)
        #expect(FileSystem.exists(layout.path(of: vectors.file)))

        let symbols = try store.chunks(at: 1).compactMap(\.chunk.symbol)
        #expect(symbols.contains("circle_area") && symbols.contains("StartServer"))
    }

    @Test("an unchanged tree is only stat'ed: nothing read, embedded or published")
    func unchangedRun() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        let first = try Indexer(layout: layout, embedder: embedder).run()
        let embeddedBefore = embedder.embeddedTexts
        let second = try Indexer(layout: layout, embedder: embedder).run()
        #expect(!second.published && second.generation == 1)
        #expect(second.skipped == first.files && second.added == 0 && second.changed == 0 && second.embedded == 0)
        #expect(embedder.embeddedTexts == embeddedBefore)
        #expect(second.files == first.files && second.chunks == first.chunks)
    }

    @Test("changed files are re-chunked, deleted ones leave the results, touched ones are not re-embedded")
    func changes() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        _ = try Indexer(layout: layout, embedder: embedder).run()
        #expect(try lexicalPaths(layout, "StartServer", embedder: embedder).first == "src/server.go")

        try edit(tree, "src/geometry.py", "def sphere_volume(radius):\n    return 4 / 3 * radius ** 3\n")
        try FileManager.default.removeItem(atPath: tree.root + "/src/server.go")
        let notes = try String(contentsOfFile: tree.root + "/docs/notes.md", encoding: .utf8)
        try edit(tree, "docs/notes.md", notes)

        let report = try Indexer(layout: layout, embedder: embedder).run()
        #expect(report.published && report.generation == 2)
        #expect(report.changed == 1 && report.deleted == 1 && report.touched == 1 && report.added == 0)
        #expect(try lexicalPaths(layout, "sphere volume", embedder: embedder).first == "src/geometry.py")
        #expect(!(try lexicalPaths(layout, "StartServer", embedder: embedder)).contains("src/server.go"))
        let circle = try lexicalPaths(layout, "circle_area", embedder: embedder)
        #expect(circle.first == "tests/test_geometry.py" && !circle.contains("src/geometry.py"))

        // The touched file is known at its new time: the next run skips it.
        let third = try Indexer(layout: layout, embedder: embedder).run()
        #expect(!third.published && third.touched == 0 && third.skipped == third.files)
    }

    @Test("content seen before reuses its cached vectors")
    func embeddingCacheReuse() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        let original = try String(contentsOfFile: tree.root + "/src/geometry.py", encoding: .utf8)
        _ = try Indexer(layout: layout, embedder: embedder).run()
        try edit(tree, "src/geometry.py", "def other():\n    return 1\n")
        _ = try Indexer(layout: layout, embedder: embedder).run()
        let before = embedder.embeddedTexts
        try edit(tree, "src/geometry.py", original)
        let report = try Indexer(layout: layout, embedder: embedder).run()
        #expect(report.changed == 1 && report.embedded == 0 && report.reused > 0)
        #expect(embedder.embeddedTexts == before)
    }

    @Test("a run that stops at any point leaves the previous generation searchable, and the next run recovers",
          arguments: IndexCheckpoint.allCases)
    func crashRecovery(at checkpoint: IndexCheckpoint) throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        _ = try Indexer(layout: layout, embedder: embedder).run()
        let reader = try IndexSnapshot.open(layout: layout)

        // The update writes a delta segment; with a limit of one vector it is compacted in the same run.
        let compacting = checkpoint == .afterCompactedBaseWritten || checkpoint == .afterCompactionPublished
        // With a lexical-first threshold of one chunk, the update is published for keyword search first and
        // its chunks are embedded after (afterEmbeddingPublished is the generation that makes them searchable).
        let embeddingAfter = checkpoint == .afterEmbeddingPublished
        var options = IndexOptions()
        if compacting { options.deltaLimit = 1 }
        if embeddingAfter { options.lexicalFirstChunks = 1 }
        try edit(tree, "src/geometry.py", "def sphere_volume(radius):\n    return 4 / 3 * radius ** 3\n")
        #expect(throws: CodeSageError.self) {
            _ = try Indexer(layout: layout, embedder: embedder, options: options).run(checkpoint: { (point) throws(CodeSageError) in
                if point == checkpoint { throw CodeSageError(.internal, "simulated crash at \(point)") }
            })
        }
        // A reader opened before the crash still answers from generation 1.
        let old = SearchEngine(snapshot: reader, embedder: embedder)
        #expect(try old.search(SearchRequest(query: "circle area radius", mode: .lexical)).contains { $0.path == "src/geometry.py" })
        #expect(try old.search(SearchRequest(query: "sphere_volume", mode: .lexical)).isEmpty)
        // A reader opened now sees generation 1, or 2 once the manifest was renamed.
        let published = checkpoint == .afterManifestWritten || compacting || embeddingAfter
        let expected: Int64 = checkpoint == .afterCompactionPublished || embeddingAfter ? 3 : published ? 2 : 1
        #expect(try IndexSnapshot.open(layout: layout).generation == expected)
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
        #expect(try lexicalPaths(layout, "sphere_volume", embedder: embedder) == (published ? ["src/geometry.py"] : []))

        // The next run finishes the job; the store holds exactly what a clean index holds.
        let report = try Indexer(layout: layout, embedder: embedder).run()
        #expect(try lexicalPaths(layout, "sphere_volume", embedder: embedder) == ["src/geometry.py"])
        let clean = IndexLayout(root: tree.root, indexDirectory: tree.root + "/../" + (tree.root.split(separator: "/").last! + "-clean"))
        defer { try? FileManager.default.removeItem(atPath: clean.directory) }
        let fresh = try Indexer(layout: clean, embedder: WordHashEmbedder()).run()
        let generation = try IndexSnapshot.open(layout: layout).generation
        #expect(report.files == fresh.files)
        #expect(try IndexStore(path: layout.storePath).counts(at: generation).chunks == fresh.chunks)
        #expect(try IndexSnapshot.open(layout: layout).segments?.count == fresh.chunks)
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
    }

    @Test("a second run on a locked index fails with `busy`, or waits when asked")
    func lock() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        try FileSystem.makeFolders(layout.directory)
        let held = try FileLock.acquire(layout.lockPath, wait: false)
        do {
            _ = try Indexer(layout: layout, embedder: WordHashEmbedder()).run()
            Issue.record("the run should have been refused")
        } catch {
            #expect(error.code == .busy)
            #expect(error.message.contains("pid \(getpid())"))
        }
        held.unlock()
        #expect(try Indexer(layout: layout, embedder: WordHashEmbedder()).run().published)
    }

    @Test("a model change re-embeds everything")
    func modelChange() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let first = try Indexer(layout: layout, embedder: WordHashEmbedder(identity: "a")).run()
        let second = try Indexer(layout: layout, embedder: WordHashEmbedder(identity: "b")).run()
        #expect(second.published && second.skipped == 0 && second.reused == 0 && second.embedded == first.embedded)
        #expect(try IndexManifest.read(path: layout.manifestPath)?.model.identity == "b")
    }

    @Test("a damaged store is corrupt data; --rebuild replaces it")
    func damagedStore() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        _ = try Indexer(layout: layout, embedder: WordHashEmbedder()).run()
        for suffix in ["-wal", "-shm"] { try FileSystem.remove(layout.storePath + suffix) }
        try FileSystem.writeDurably(Array(repeating: 0x5a, count: 8_192), to: layout.storePath)
        #expect { try Indexer(layout: layout, embedder: WordHashEmbedder()).run() } throws: {
            ($0 as? CodeSageError)?.code == .corruptData && ($0 as? CodeSageError)?.message.contains("--rebuild") == true
        }
        var options = IndexOptions()
        options.rebuild = true
        let report = try Indexer(layout: layout, embedder: WordHashEmbedder(), options: options).run()
        #expect(report.published && report.generation == 2 && report.chunks > 0)
        #expect(try lexicalPaths(layout, "StartServer", embedder: WordHashEmbedder()).first == "src/server.go")
    }

    @Test("a damaged manifest is reported as corrupt data, not a crash")
    func damagedManifest() throws {
        let tree = try makeRepository()
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        _ = try Indexer(layout: layout, embedder: WordHashEmbedder()).run()
        try FileSystem.writeDurably(Array("{\"generation\": ".utf8), to: layout.manifestPath)
        #expect { try IndexSnapshot.open(layout: layout) } throws: { ($0 as? CodeSageError)?.code == .corruptData }
    }
}

@Suite("Embedding cache")
struct EmbeddingCacheTests {
    @Test("vectors round-trip exactly, zstd-compressed or not; a damaged vector is corrupt data", arguments: [false, true])
    func roundTrip(compressed: Bool) throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try IndexStore(path: folder + "/store.sqlite", compressVectors: compressed)
        let vector = (0..<384).map { Float($0 % 7) * 0.125 }  // repetitive: zstd shrinks it
        let key = ContentHash.of(parts: "model", "text")
        try store.storeVectors([(key, vector)])
        #expect(try store.cachedVectors([key], dimension: 384)[key] == vector)
        let stored = try #require(try store.database.query("SELECT codec, length(vector) FROM embeddings").first)
        #expect(stored[0].int64Value == (compressed ? 1 : 0))
        #expect(compressed ? (stored[1].int64Value ?? 0) < 384 * 4 : stored[1].int64Value == 384 * 4)
        try store.database.query("UPDATE embeddings SET vector = x'0102'")
        #expect { try store.cachedVectors([key], dimension: 384) } throws: { ($0 as? CodeSageError)?.code == .corruptData }
    }
}
