import Foundation
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import Platform
@testable import Search

@Suite("Search: modes, filters, staleness, duplicates, snapshots")
struct SearchEngineTests {
    /// An indexed copy of `makeRepository()` and an engine over it.
    func indexed() throws -> (TreeFixture, IndexLayout, SearchEngine) {
        let tree = try makeRepository()
        let layout = IndexLayout(root: tree.root)
        let embedder = WordHashEmbedder()
        _ = try Indexer(layout: layout, embedder: embedder).run()
        return (tree, layout, SearchEngine(snapshot: try IndexSnapshot.open(layout: layout), embedder: embedder))
    }

    @Test("every mode finds the definition named by the query, with its lines, symbol and language")
    func modes() throws {
        let (tree, _, engine) = try indexed()
        defer { withExtendedLifetime(tree) {} }
        for mode in SearchMode.allCases {
            let results = try engine.search(SearchRequest(query: "start server port", mode: mode, limit: 5))
            let top = try #require(results.first, "mode \(mode)")
            #expect(top.path == "src/server.go" && top.symbol == "StartServer" && top.language == "go", "mode \(mode)")
            #expect(top.startLine == 3 && top.endLine == 5 && top.snippet.hasPrefix("func StartServer"), "mode \(mode)")
            #expect(!top.stale)
            #expect(zip(results, results.dropFirst()).allSatisfy { $0.score >= $1.score }, "mode \(mode): best first")
        }
    }

    @Test("distinct searches reuse the store's prepared statements (ids are bound, never spelled into SQL)")
    func statementsReused() throws {
        let (tree, _, engine) = try indexed()
        defer { withExtendedLifetime(tree) {} }
        let ids = try engine.snapshot.withStore { (store) throws(CodeSageError) in try store.chunks(at: engine.snapshot.generation).map(\.id) }
        for i in 0..<300 {
            let subset = ids.enumerated().filter { ($0.offset + i) % 3 != 0 || $0.offset == i % ids.count }.map(\.element)
            _ = try engine.snapshot.withStore { (store) throws(CodeSageError) in
                (try store.chunks(ids: subset), try store.files(ids: [Int64(i % 5 + 1)]), try store.visibleChunks(subset, generation: 1))
            }
            _ = try engine.search(SearchRequest(query: "query \(i) server", mode: SearchMode.allCases[i % 3]))
        }
        let cached = try engine.snapshot.withStore { (store) throws(CodeSageError) in store.database.cachedStatementCount }
        #expect(cached < 20, "\(cached) prepared statements cached")
    }

    @Test("hybrid ranks the implementation above its test when both match")
    func testPrior() throws {
        let (tree, _, engine) = try indexed()
        defer { withExtendedLifetime(tree) {} }
        let results = try engine.search(SearchRequest(query: "circle area", mode: .hybrid, limit: 20))
        let implementation = try #require(results.firstIndex { $0.path == "src/geometry.py" })
        let test = try #require(results.firstIndex { $0.path == "tests/test_geometry.py" })
        #expect(implementation < test)
        #expect(TestPaths.isTest("tests/test_geometry.py") && TestPaths.isTest("pkg/server_test.go") && TestPaths.isTest("src/App.spec.ts"))
        #expect(TestPaths.isTest("Tests/CoreTests/ParserTests.swift") && !TestPaths.isTest("src/contest.py") && !TestPaths.isTest("src/attestation.go"))
    }

    @Test("file-type and path filters apply before the limit")
    func filters() throws {
        let (tree, _, engine) = try indexed()
        defer { withExtendedLifetime(tree) {} }
        let python = try engine.search(SearchRequest(query: "circle area server", limit: 10, filter: PathFilter(fileTypes: ["py"])))
        #expect(!python.isEmpty && python.allSatisfy { $0.path.hasSuffix(".py") })
        let byLanguage = try engine.search(SearchRequest(query: "circle area server", limit: 10, filter: PathFilter(fileTypes: ["go"])))
        #expect(Set(byLanguage.map(\.path)) == ["src/server.go"])
        let noTests = try engine.search(SearchRequest(query: "circle area", limit: 10, filter: PathFilter(excludePatterns: ["tests/", "*.md"])))
        #expect(!noTests.isEmpty && noTests.allSatisfy { !$0.path.hasPrefix("tests/") && !$0.path.hasSuffix(".md") })
        let onlySrc = try engine.search(SearchRequest(query: "circle area server", limit: 10, filter: PathFilter(includePatterns: ["/src"])))
        #expect(!onlySrc.isEmpty && onlySrc.allSatisfy { $0.path.hasPrefix("src/") })
    }

    @Test("a result whose file changed after indexing is marked stale")
    func stale() throws {
        let (tree, _, engine) = try indexed()
        try edit(tree, "src/server.go", "package server\n\n// moved\nfunc StartServer(port int) error {\n\treturn nil\n}\n")
        let result = try #require(try engine.search(SearchRequest(query: "StartServer", mode: .lexical)).first)
        #expect(result.path == "src/server.go" && result.stale)
        try FileManager.default.removeItem(atPath: tree.root + "/src/server.go")
        #expect(try engine.search(SearchRequest(query: "StartServer", mode: .lexical)).first?.stale == true)
    }

    @Test("bad requests get clear errors")
    func badRequests() throws {
        let (tree, _, engine) = try indexed()
        defer { withExtendedLifetime(tree) {} }
        #expect { try engine.search(SearchRequest(query: "   ")) } throws: { ($0 as? CodeSageError)?.code == .invalidArgument }
        #expect { try engine.search(SearchRequest(query: "x", limit: 0)) } throws: { ($0 as? CodeSageError)?.code == .invalidArgument }
        #expect(try engine.search(SearchRequest(query: "\"NEAR( OR * -", mode: .lexical)).isEmpty)
        #expect { try engine.duplicates(threshold: 1.5, limit: 10) } throws: { ($0 as? CodeSageError)?.code == .invalidArgument }
    }

    @Test("duplicates pair the copied function across files and never a chunk with itself")
    func duplicates() throws {
        let (tree, _, engine) = try indexed()
        defer { withExtendedLifetime(tree) {} }
        let pairs = try engine.duplicates(threshold: 0.8, limit: 10)
        let copy = try #require(pairs.first { Set([$0.first.path, $0.second.path]) == ["src/copy_a.py", "lib/copy_b.py"] })
        #expect(copy.similarity > 0.9 && copy.first.symbol == "normalise_whitespace" && copy.first.startLine == 1 && copy.first.endLine == 3)
        #expect(pairs.allSatisfy { $0.first != $0.second })
        #expect(zip(pairs, pairs.dropFirst()).allSatisfy { $0.similarity >= $1.similarity })
        #expect(try engine.duplicates(threshold: 1.0, limit: 10).allSatisfy { $0.similarity >= 0.9999 })
    }

    @Test("a snapshot keeps answering from its generation after a newer one is published")
    func snapshotIsolation() throws {
        let (tree, layout, engine) = try indexed()
        defer { withExtendedLifetime(tree) {} }
        try edit(tree, "src/geometry.py", "def sphere_volume(radius):\n    return 4 / 3 * radius ** 3\n")
        _ = try Indexer(layout: layout, embedder: WordHashEmbedder()).run()
        #expect(!engine.snapshot.isCurrent())
        #expect(try engine.search(SearchRequest(query: "sphere_volume", mode: .lexical)).isEmpty)
        #expect(try engine.search(SearchRequest(query: "circle_area radius", mode: .lexical)).contains { $0.path == "src/geometry.py" })
        let fresh = try IndexSnapshot.open(layout: layout)
        #expect(fresh.isCurrent() && fresh.generation == 2)
    }

    @Test("weighted reciprocal-rank fusion")
    func fusion() {
        let fused = Fusion.reciprocalRank([[1, 2, 3], [3, 4]], weights: [1, 0.5], k: 60)
        #expect(fused.map(\.id) == [3, 1, 2, 4])
        #expect(abs(fused[0].score - (1.0 / 63 + 0.5 / 61)) < 1e-12)
    }
}

@Suite("Vector index plans and builds")
struct VectorIndexPlanTests {
    @Test("exact while small, lists as it grows, compression to fit the target memory")
    func plans() {
        let small = VectorIndexPlan.choose(count: 5_000, dimension: 384, compression: .auto, type: .auto, targetMemoryBytes: 512 << 20)
        #expect(small.factory == "IVF1,Flat" && small.isExact)
        let large = VectorIndexPlan.choose(count: 200_000, dimension: 384, compression: .auto, type: .auto, targetMemoryBytes: 512 << 20)
        #expect(large.factory == "IVF1024,Flat")
        let tight = VectorIndexPlan.choose(count: 200_000, dimension: 384, compression: .auto, type: .auto, targetMemoryBytes: 100 << 20)
        #expect(tight.codes == .sq8)
        let tighter = VectorIndexPlan.choose(count: 200_000, dimension: 384, compression: .auto, type: .auto, targetMemoryBytes: 20 << 20)
        #expect(tighter.factory == "IVF1024,PQ48")
        #expect(VectorIndexPlan.choose(count: 500, dimension: 384, compression: .true, type: .pq, targetMemoryBytes: 1 << 30).codes == .sq8)
        #expect(VectorIndexPlan.choose(count: 500, dimension: 384, compression: .false, type: .pq, targetMemoryBytes: 1).codes == .flat)
    }

    @Test("compressed builds measure their recall against exact search", arguments: [VectorIndexPlan.Codes.sq8, .pq])
    func measuredRecall(codes: VectorIndexPlan.Codes) throws {
        var generator = SystemRandomNumberGenerator()
        let dimension = 32, count = 2_000
        var matrix = (0..<(count * dimension)).map { _ in Float.random(in: -1...1, using: &generator) }
        for row in 0..<count {
            let norm = matrix[(row * dimension)..<((row + 1) * dimension)].reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in 0..<dimension { matrix[row * dimension + i] /= norm }
        }
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plan = VectorIndexPlan(codes: codes, nlist: 1, pqBytes: 8, reason: "test")
        let built = try VectorIndexBuilder.build(ids: (0..<Int64(count)).map { $0 * 7 }, matrix: matrix, dimension: dimension,
                                                 plan: plan, to: folder + "/v.faiss")
        #expect(built.recallSample == 256)
        #expect(built.recallAt10 > 0.2 && built.recallAt10 <= 1)
        if codes == .pq { #expect(built.recallAt10 < 1) }  // 8 bytes for 32 floats cannot be exact
        #expect(FileSystem.exists(folder + "/v.faiss"))
    }
}
