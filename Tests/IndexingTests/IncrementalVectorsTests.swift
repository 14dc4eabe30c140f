import Foundation
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import Platform
@testable import Search
@testable import VectorIndex

/// The exact semantic top k of `query` over every vector the store holds for `generation`, with scores.
func exactSemanticTop(_ layout: IndexLayout, generation: Int64, query: [Float], k: Int, dimension: Int) throws -> [(id: Int64, score: Float)] {
    let (ids, matrix) = try IndexStore(path: layout.storePath).vectors(at: generation, dimension: dimension)
    let rows = ids.enumerated().map { (id: $0.element, vector: matrix[($0.offset * dimension)..<(($0.offset + 1) * dimension)]) }
    var scored: [(id: Int64, score: Float)] = []
    for row in rows {
        var score: Float = 0
        for (a, b) in zip(query, row.vector) { score += a * b }
        scored.append((row.id, score))
    }
    scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
    return Array(scored.prefix(k))
}

/// A repository of `count` small Python files, each defining one function with its own words.
func makeModuleTree(count: Int) throws -> TreeFixture {
    let tree = try TreeFixture()
    for i in 0..<count { try tree.write("pkg/module_\(i).py", moduleText(i, version: 0)) }
    return tree
}

/// Whether `found` is an exact top k: the same scores as `exact`, best first (ties may come in any order),
/// each hit's score being its true one.
func matchesExact(_ found: [(id: Int64, score: Double)], _ exact: [(id: Int64, score: Float)], all: [(id: Int64, score: Float)]) -> Bool {
    guard found.count == exact.count else { return false }
    let truth = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.score) })
    return zip(found, exact).allSatisfy { abs($0.score - Double($1.score)) < 1e-5 }
        && found.allSatisfy { hit in truth[hit.id].map { abs(Double($0) - hit.score) < 1e-5 } ?? false }
}

func moduleText(_ i: Int, version: Int) -> String {
    "def function_\(i)_v\(version)(value):\n    \"\"\"word\(i % 17) term\(i % 5) rev\(version)\"\"\"\n    return value * \(i) + \(version)\n"
}

@Suite("Incremental vectors: an update writes a delta segment, not the index")
struct IncrementalVectorsTests {
    @Test("updates publish a delta over the kept base; semantic search equals an exact search of the generation")
    func deltaUpdates() throws {
        let tree = try makeModuleTree(count: 40)
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        let first = try Indexer(layout: layout, embedder: embedder).run()
        #expect(first.vectorUpdate == "full" && first.deltaVectors == 0)
        let baseFile = try #require(try IndexManifest.read(path: layout.manifestPath)?.vectors?.file)
        let baseBytes = try FileSystem.readFile(layout.path(of: baseFile))

        var deleted: [String] = []
        for round in 1...6 {
            try edit(tree, "pkg/module_\(round).py", moduleText(round, version: round))
            try edit(tree, "pkg/new_\(round).py", "def brand_new_\(round)():\n    return 'fresh\(round)'\n")
            try FileManager.default.removeItem(atPath: tree.root + "/pkg/module_\(20 + round).py")
            deleted.append("pkg/module_\(20 + round).py")
            let report = try Indexer(layout: layout, embedder: embedder).run()
            #expect(report.published && report.vectorUpdate == "delta" && !report.compacted)
            #expect(report.deltaVectors == 2 * round && report.tombstones == 2 * round)

            let manifest = try #require(try IndexManifest.read(path: layout.manifestPath))
            #expect(manifest.vectors?.file == baseFile && manifest.formatVersion == IndexManifest.deltaFormat)
            #expect(manifest.delta?.file == IndexLayout.deltaFileName(generation: report.generation))
            let snapshot = try IndexSnapshot.open(layout: layout)
            #expect(snapshot.segments?.count == manifest.chunks)
            let engine = SearchEngine(snapshot: snapshot, embedder: embedder)
            for query in ["brand_new_\(round) fresh\(round)", "function_\(round)_v\(round) rev\(round)", "word3 term2", "module_\(20 + round)"] {
                let vector = try #require(try engine.queryVector(query))
                let found = try engine.semanticCandidates(query, depth: 10, vector: vector)
                let exact = try exactSemanticTop(layout, generation: report.generation, query: vector, k: 10, dimension: embedder.dimension)
                let all = try exactSemanticTop(layout, generation: report.generation, query: vector, k: .max, dimension: embedder.dimension)
                #expect(matchesExact(found, exact, all: all), "\(query): \(found) vs \(exact)")
                // A deleted or replaced file never answers once its update is published.
                let paths = try engine.search(SearchRequest(query: query, mode: .semantic, limit: 50)).map(\.path)
                #expect(paths.allSatisfy { !deleted.contains($0) })
            }
            #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
        }
        // The base file was never rewritten.
        #expect(try FileSystem.readFile(layout.path(of: baseFile)) == baseBytes)
        // Only the current and the previous generation's segments are kept.
        let segments = try FileSystem.listDirectory(layout.directory).map(\.name).filter { $0.hasPrefix("delta-") }
        #expect(segments.count == 2)
    }

    @Test("a delta past its limit is compacted into a new base in the same run, and search still equals exact")
    func compaction() throws {
        let tree = try makeModuleTree(count: 30)
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        _ = try Indexer(layout: layout, embedder: embedder).run()
        var options = IndexOptions()
        options.deltaLimit = 6
        try edit(tree, "pkg/module_1.py", moduleText(1, version: 1))
        let small = try Indexer(layout: layout, embedder: embedder, options: options).run()
        #expect(small.vectorUpdate == "delta" && !small.compacted && small.generation == 2)

        for i in 2...5 { try edit(tree, "pkg/module_\(i).py", moduleText(i, version: 1)) }
        let big = try Indexer(layout: layout, embedder: embedder, options: options).run()
        #expect(big.compacted && big.generation == 4 && big.deltaVectors == 0 && big.tombstones == 0)
        let manifest = try #require(try IndexManifest.read(path: layout.manifestPath))
        #expect(manifest.delta == nil && manifest.vectors?.file == IndexLayout.vectorFileName(generation: 4))
        #expect(manifest.vectors?.count == manifest.chunks && manifest.formatVersion == IndexManifest.currentFormat)
        let engine = SearchEngine(snapshot: try IndexSnapshot.open(layout: layout), embedder: embedder)
        let vector = try #require(try engine.queryVector("function_3_v1 rev1"))
        #expect(matchesExact(try engine.semanticCandidates("", depth: 10, vector: vector),
                             try exactSemanticTop(layout, generation: 4, query: vector, k: 10, dimension: embedder.dimension),
                             all: try exactSemanticTop(layout, generation: 4, query: vector, k: .max, dimension: embedder.dimension)))
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
        // The next update starts a fresh delta over the compacted base.
        try edit(tree, "pkg/module_9.py", moduleText(9, version: 2))
        let after = try Indexer(layout: layout, embedder: embedder, options: options).run()
        #expect(after.vectorUpdate == "delta" && after.deltaVectors == 1 && after.tombstones == 1)
    }

    @Test("a reader that reopens after a delta update shares the base index it already has")
    func baseReuse() throws {
        let tree = try makeModuleTree(count: 10)
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        _ = try Indexer(layout: layout, embedder: embedder).run()
        let first = try IndexSnapshot.open(layout: layout)
        try edit(tree, "pkg/module_2.py", moduleText(2, version: 1))
        _ = try Indexer(layout: layout, embedder: embedder).run()
        #expect(!first.isCurrent())
        let second = try IndexSnapshot.open(layout: layout, reusing: first)
        #expect(second.vectors === first.vectors && second.segments?.delta != nil)
        var options = IndexOptions()
        options.rebuild = true
        _ = try Indexer(layout: layout, embedder: embedder, options: options).run()
        let third = try IndexSnapshot.open(layout: layout, reusing: second)
        #expect(third.vectors !== second.vectors && third.segments?.delta == nil)
    }

    @Test("a damaged delta segment is reported by check and refused at open; --rebuild or the next update replaces it")
    func damagedDelta() throws {
        let tree = try makeModuleTree(count: 10)
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        _ = try Indexer(layout: layout, embedder: embedder).run()
        try edit(tree, "pkg/module_2.py", moduleText(2, version: 1))
        _ = try Indexer(layout: layout, embedder: embedder).run()
        let manifest = try #require(try IndexManifest.read(path: layout.manifestPath))
        let path = layout.path(of: try #require(manifest.delta?.file))
        var bytes = try FileSystem.readFile(path)
        bytes[bytes.count - 3] ^= 0x40
        try FileSystem.writeDurably(bytes, to: path)
        #expect(try IndexCheck.run(layout: layout).problems.contains { $0.contains("SHA-256") })
        try FileSystem.writeDurably(Array(bytes.prefix(bytes.count / 2)), to: path)
        do { _ = try IndexSnapshot.open(layout: layout); Issue.record("a truncated segment opened") } catch { #expect(error.code == .corruptData) }
        // The next update cannot extend the damaged segment: it builds a new base.
        try edit(tree, "pkg/module_3.py", moduleText(3, version: 1))
        let report = try Indexer(layout: layout, embedder: embedder).run()
        #expect(report.vectorUpdate == "full")
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
    }

    @Test("a cold index is published for keyword search first, then embedded newest files first, publishing as coverage grows")
    func coldStart() throws {
        let tree = try makeModuleTree(count: 40)
        defer { withExtendedLifetime(tree) {} }
        // Distinct times: module_39 is the newest file, module_0 the oldest.
        for i in 0..<40 {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_000 + Double(i) * 60)],
                                                  ofItemAtPath: tree.root + "/pkg/module_\(i).py")
        }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        var options = IndexOptions()
        options.lexicalFirstChunks = 1
        options.embeddingBatch = 8
        var seen: [(generation: Int64, coverage: Double, lexical: Bool, newestSemantic: Bool, oldestSemantic: Bool)] = []
        var phases: [(IndexPhase, Int, Int)] = []
        let report = try Indexer(layout: layout, embedder: embedder, options: options).run(progress: { phases.append(($0, $1, $2)) },
                                                                                          checkpoint: { (point) throws(CodeSageError) in
            guard point == .afterManifestWritten || point == .afterEmbeddingPublished else { return }
            // What a reader opening the index right now gets.
            let snapshot = try IndexSnapshot.open(layout: layout)
            let engine = SearchEngine(snapshot: snapshot, embedder: embedder)
            let lexical = try engine.search(SearchRequest(query: "function_3_v0", mode: .lexical)).first?.path == "pkg/module_3.py"
            func semanticFinds(_ i: Int) throws(CodeSageError) -> Bool {
                try engine.search(SearchRequest(query: "function_\(i)_v0", mode: .semantic, limit: 40)).contains { $0.path == "pkg/module_\(i).py" }
            }
            seen.append((snapshot.generation, snapshot.manifest.semanticCoverage, lexical, try semanticFinds(39), try semanticFinds(0)))
        })
        let first = try #require(seen.first)
        #expect(first.generation == 1 && first.coverage == 0 && first.lexical && !first.newestSemantic)
        #expect(seen.allSatisfy { $0.lexical })
        // Coverage only grows; the newest file is searchable by meaning before the oldest.
        let coverages = seen.map(\.coverage)
        #expect(zip(coverages, coverages.dropFirst()).allSatisfy { $0 < $1 })
        let newest = try #require(seen.firstIndex { $0.newestSemantic })
        let oldest = try #require(seen.firstIndex { $0.oldestSemantic })
        #expect(newest < oldest && seen.count >= 3)
        #expect(seen.last?.coverage == 1)
        #expect(report.lexicalSeconds != nil && report.embeddingPublications == seen.count - 1 && report.semanticCoverage == 1)
        // Embedding progress has one total that never changes, and counts up to it.
        let embedding = phases.filter { $0.0 == .embedding }
        #expect(Set(embedding.map(\.2)).count == 1 && embedding.last?.1 == embedding.last?.2)
        let done = embedding.map(\.1)
        #expect(zip(done, done.dropFirst()).allSatisfy { $0 <= $1 })
        // Fully embedded, the run compacts: a base and no delta, as a first build without lexical-first ends.
        let manifest = try #require(try IndexManifest.read(path: layout.manifestPath))
        #expect(report.compacted && manifest.delta == nil && manifest.vectors?.count == manifest.chunks)
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
    }

    @Test("a run killed while embedding leaves a searchable generation; the next run finishes the embedding, without deleted files")
    func resumeEmbedding() throws {
        let tree = try makeModuleTree(count: 30)
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        var options = IndexOptions()
        options.lexicalFirstChunks = 1
        options.embeddingBatch = 4
        #expect(throws: CodeSageError.self) {
            _ = try Indexer(layout: layout, embedder: embedder, options: options).run(checkpoint: { (point) throws(CodeSageError) in
                if point == .afterEmbeddingPublished { throw CodeSageError(.internal, "simulated crash while embedding") }
            })
        }
        let partial = try #require(try IndexManifest.read(path: layout.manifestPath))
        #expect(partial.pendingChunks > 0 && partial.semanticCoverage < 1)
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)

        // Nothing changed on disk: the next run only finishes the embedding.
        let resumed = try Indexer(layout: layout, embedder: embedder, options: options).run()
        #expect(resumed.published && resumed.semanticCoverage == 1 && resumed.added == 0)
        #expect(try IndexManifest.read(path: layout.manifestPath)?.pendingChunks == 0)

        // Killed again with files deleted while their chunks were pending: they never answer, and nothing stays pending.
        for i in 0..<10 { try edit(tree, "pkg/module_\(i).py", moduleText(i, version: 3)) }
        #expect(throws: CodeSageError.self) {
            _ = try Indexer(layout: layout, embedder: embedder, options: options).run(checkpoint: { (point) throws(CodeSageError) in
                if point == .afterManifestWritten { throw CodeSageError(.internal, "simulated crash before embedding") }
            })
        }
        #expect((try IndexManifest.read(path: layout.manifestPath)?.pendingChunks ?? 0) > 0)
        for i in 0..<5 { try FileManager.default.removeItem(atPath: tree.root + "/pkg/module_\(i).py") }
        let after = try Indexer(layout: layout, embedder: embedder, options: options).run()
        #expect(after.semanticCoverage == 1 && after.deleted == 5 && after.vectorUpdate == "delta")
        let engine = SearchEngine(snapshot: try IndexSnapshot.open(layout: layout), embedder: embedder)
        for i in 0..<5 {
            let paths = try engine.search(SearchRequest(query: "function_\(i)_v3 word\(i % 17)", mode: .hybrid, limit: 50)).map(\.path)
            #expect(!paths.contains("pkg/module_\(i).py"))
        }
        #expect(try engine.search(SearchRequest(query: "function_7_v3", mode: .semantic, limit: 5)).contains { $0.path == "pkg/module_7.py" })
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
    }

    @Test("a reader opened before a run that publishes several generations keeps answering from its own")
    func oldReaderSurvivesManyPublications() throws {
        let tree = try makeModuleTree(count: 20)
        defer { withExtendedLifetime(tree) {} }
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        _ = try Indexer(layout: layout, embedder: embedder).run()
        let reader = try IndexSnapshot.open(layout: layout)
        // Changed files retire rows the reader sees; the run publishes for keyword search, while embedding, and compacts.
        for i in 0..<12 { try edit(tree, "pkg/module_\(i).py", moduleText(i, version: 5)) }
        var options = IndexOptions()
        options.lexicalFirstChunks = 1
        options.embeddingBatch = 2
        options.deltaLimit = 4
        let report = try Indexer(layout: layout, embedder: embedder, options: options).run()
        #expect(report.generation >= 4 && report.embeddingPublications >= 2 && report.compacted)
        let old = SearchEngine(snapshot: reader, embedder: embedder)
        #expect(try old.search(SearchRequest(query: "function_3_v0", mode: .lexical)).first?.path == "pkg/module_3.py")
        #expect(try old.search(SearchRequest(query: "function_3_v0 word3", mode: .semantic, limit: 3)).contains { $0.path == "pkg/module_3.py" })
        #expect(try IndexCheck.run(layout: layout).problems.isEmpty)
    }
}
