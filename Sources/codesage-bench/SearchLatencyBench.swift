import CodeSageCore
import Embedding
import Foundation
import CodeSageService
import IndexStore
import Indexing
import SourceModel
import Platform
import Search

/// `codesage-bench search-latency`: search latency per mode on a synthetic index of N chunks.
///
/// Chunk texts are real source lines (cycled from `--source`, any folder of code); vectors are
/// clustered random unit vectors (synthetic, as the benchmark allows for the large case); queries are real
/// sentences embedded by the real model. The index is planned and built as `codesage index` does.
enum SearchLatencyBench {
    static func run(args: [String], configuration: Configuration, modelPath: String) throws {
        guard let source = option("--source", in: args), let queriesPath = option("--queries", in: args) else {
            throw CodeSageError(.invalidArgument, "usage: codesage-bench search-latency --source DIR --queries Q.jsonl [--chunks 10000,100000]")
        }
        let sizes = (option("--chunks", in: args) ?? "10000,100000").split(separator: ",").compactMap { Int($0) }
        let lines = try sourceLines(source)
        let queries = try String(contentsOfFile: queriesPath, encoding: .utf8).split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["query"] as? String
        }
        let embedder = try ModelLoading.embedder(modelPath: modelPath, quantized: false)
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(ProcessInfoReader.loadAverage()); \(lines.count) source lines, \(queries.count) queries")
        for size in sizes {
            let folder = try FileSystem.makeTemporaryFolder(prefix: "codesage-latency")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let layout = IndexLayout(root: folder)
            try FileSystem.makeFolders(layout.directory)
            let started = Date()
            try buildSyntheticIndex(layout: layout, chunks: size, lines: lines, dimension: embedder.dimension, identity: embedder.identity,
                                    configuration: configuration)
            let manifest = try IndexManifest.read(path: layout.manifestPath)!
            let storeBytes = try FileSystem.size(of: layout.storePath)
            print(String(format: "%d chunks: built in %.1f s; %@ nprobe %d, recall@10 %.3f; faiss %d bytes, store %llu bytes (%.0f bytes/chunk)",
                         size, Date().timeIntervalSince(started), manifest.vectors!.factory, manifest.vectors!.nprobe, manifest.vectors!.recallAt10,
                         manifest.vectors!.bytes, storeBytes, Double(Int(storeBytes) + manifest.vectors!.bytes) / Double(size)))
            let engine = SearchEngine(snapshot: try IndexSnapshot.open(layout: layout, memoryMap: configuration.memoryMappedIndexes), embedder: embedder)
            func median(_ body: (String) throws -> Void) rethrows -> Double {
                var times: [Double] = []
                for query in queries {
                    let start = DispatchTime.now().uptimeNanoseconds
                    try body(query)
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                return times.sorted()[times.count / 2]
            }
            let embedOnly = try median { _ = try embedder.embed([$0]) }
            let semanticOnly = try median { _ = try engine.semanticCandidates($0, depth: 100) }
            let lexicalOnly = try median { _ = try engine.lexicalCandidates($0, depth: 100) }
            let probe = try embedder.embed([queries[0]])[0]
            let faissOnly = try median { _ in _ = try engine.snapshot.vectors!.search(probe, k: 100) }
            print(String(format: "  FAISS top-100 alone %.3f ms", faissOnly))
            print(String(format: "  parts (median): query embedding %.2f ms, embedding + FAISS top-100 %.2f ms, FTS5 top-100 %.2f ms",
                         embedOnly, semanticOnly, lexicalOnly))
            for mode in SearchMode.allCases {
                _ = try engine.search(SearchRequest(query: queries[0], mode: mode))  // warm-up
                var latencies: [Double] = []
                for query in queries {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try engine.search(SearchRequest(query: query, mode: mode, limit: 10))
                    latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
                latencies.sort()
                print(String(format: "  %@: p50 %.2f ms, p99 %.2f ms (%d queries)", mode.rawValue, latencies[latencies.count / 2],
                             latencies[min(latencies.count - 1, latencies.count * 99 / 100)], latencies.count))
            }
        }
    }

    /// `codesage-bench synthetic-index --root DIR --source SRC --chunks N [--files F]`: leaves a synthetic index of N
    /// chunks in DIR/.codesage (for round-trip benchmarks through a running server); with `--files`, the files too.
    static func keep(args: [String], configuration: Configuration, modelPath: String) throws {
        guard let root = option("--root", in: args), let source = option("--source", in: args) else {
            throw CodeSageError(.invalidArgument, "usage: codesage-bench synthetic-index --root DIR --source SRC [--chunks N] [--files F]")
        }
        let chunks = option("--chunks", in: args).flatMap(Int.init) ?? 10_000
        // With --files N the chunks are spread over N files written under the root (an index run then finds them
        // unchanged and re-reads only what a benchmark edits); without, 100 files that exist only in the store.
        let files = option("--files", in: args).flatMap(Int.init)
        // The index carries the identity of the model the server will run (int8 when CODESAGE_ENABLE_MODEL_QUANTIZATION is on).
        let embedder = try ModelLoading.embedder(modelPath: modelPath, quantized: configuration.modelQuantizationEnabled)
        try FileSystem.makeFolders(root)
        let layout = IndexLayout(root: try FileSystem.realPath(resolving: root))
        try? FileManager.default.removeItem(atPath: layout.directory)
        try FileSystem.makeFolders(layout.directory)
        try buildSyntheticIndex(layout: layout, chunks: chunks, lines: try sourceLines(source), dimension: embedder.dimension,
                                identity: embedder.identity, configuration: configuration, files: files ?? 100, writeFiles: files != nil)
        print("synthetic index of \(chunks) chunks\(files.map { " in \($0) files" } ?? "") in \(layout.directory)")
    }

    /// Non-blank lines of the source files under `folder` (as discovery finds them).
    static func sourceLines(_ folder: String) throws -> [String] {
        let found = try FileDiscovery.discover(root: folder)
        var lines: [String] = []
        for file in found.files where file.language.map(Language.definitionAware.contains) == true {
            if case .text(let text, _) = try SourceText.load(path: folder + "/" + file.relativePath, maxSize: 1 << 20) {
                lines += text.split(separator: "\n").map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
            }
        }
        guard !lines.isEmpty else { throw CodeSageError(.invalidArgument, "no source lines under \(folder)") }
        return lines
    }

    static func unit(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
    }

    /// A store and FAISS index of `chunks` synthetic chunks (12 real lines each, clustered random vectors) in `files`
    /// files. With `writeFiles`, the files are written under the root with the chunks' text, and the store records
    /// their real size and time, so an index run finds them unchanged and re-reads only what a benchmark edits.
    static func buildSyntheticIndex(layout: IndexLayout, chunks: Int, lines: [String], dimension: Int, identity: String,
                                    configuration: Configuration, files: Int = 100, writeFiles: Bool = false) throws {
        let store = try IndexStore(path: layout.storePath)
        var generator = SystemRandomNumberGenerator()
        // Clustered like real embeddings: each vector is a unit vector near one of √n random centres.
        let centres = (0..<max(1, Int(Double(chunks).squareRoot()))).map { _ in unit((0..<dimension).map { _ in Float.random(in: -1...1, using: &generator) }) }
        let perFile = (chunks + files - 1) / files
        var made = 0
        var line = 0
        try store.database.transaction { () throws(CodeSageError) in
            for file in 0..<files where made < chunks {
                var drafts: [ChunkDraft] = []
                var vectors: [(key: [UInt8], vector: [Float])] = []
                var texts: [String] = []
                for c in 0..<min(perFile, chunks - made) {
                    let text = (0..<12).map { lines[(line + $0) % lines.count] }.joined(separator: "\n")
                    line += 12
                    texts.append(text)
                    let centre = centres[Int.random(in: 0..<centres.count, using: &generator)]
                    let vector = unit((0..<dimension).map { centre[$0] + 0.06 * Float.random(in: -1...1, using: &generator) })
                    let key = ContentHash.of(parts: identity, "\(file)/\(c)", text)
                    vectors.append((key, vector))
                    drafts.append(ChunkDraft(startLine: c * 12 + 1, endLine: c * 12 + 12, symbol: "f\(file)_\(c)", kind: "function",
                                             signature: nil, language: "python", tokenCount: 100, truncated: false, part: 1, partCount: 1,
                                             text: text, embeddingKey: key))
                }
                try store.storeVectors(vectors)
                var size: Int64 = 0, time: Int64 = 0, hash: [UInt8] = []
                let path = writeFiles ? "pkg\(file / 100)/module_\(file).py" : "pkg\(file)/module.py"
                if writeFiles {
                    let bytes = Array((texts.joined(separator: "\n") + "\n").utf8)
                    try FileSystem.makeFolders(layout.root + "/pkg\(file / 100)")
                    try FileSystem.writeDurably(bytes, to: layout.root + "/" + path)
                    let status = try FileSystem.status(of: layout.root + "/" + path, followingLinks: false)
                    (size, time, hash) = (status.size, status.modificationTime, ContentHash.of(bytes))
                }
                try store.addFile(path: path, size: size, modificationTime: time, contentHash: hash, language: "python",
                                  lineCount: drafts.count * 12, chunks: drafts, generation: 1)
                made += drafts.count
            }
        }
        let (ids, matrix) = try store.vectors(at: 1, dimension: dimension)
        let plan = VectorIndexPlan.choose(count: ids.count, dimension: dimension, compression: configuration.indexCompression,
                                          type: configuration.indexCompressionType, targetMemoryBytes: configuration.targetMemoryBytes)
        let file = IndexLayout.vectorFileName(generation: 1)
        let built = try VectorIndexBuilder.build(ids: ids, matrix: matrix, dimension: dimension, plan: plan, to: layout.path(of: file))
        let manifest = IndexManifest(
            formatVersion: IndexManifest.currentFormat, generation: 1, publishedAt: IndexManifest.timestamp(), root: layout.root,
            model: .init(identity: identity, dimension: dimension, quantized: identity.contains("/int8/")), files: min(files, made), chunks: ids.count,
            vectors: .init(file: file, factory: plan.factory, nlist: plan.nlist, nprobe: built.nprobe, count: ids.count,
                           bytes: Int(try FileSystem.size(of: layout.path(of: file))), exact: plan.isExact,
                           recallAt10: built.recallAt10, recallSample: built.recallSample, reason: plan.reason))
        try manifest.write(to: layout.manifestPath)
    }
}
