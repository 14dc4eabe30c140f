import CodeSageCore
import Embedding
import Foundation
import CodeSageService
import IndexStore
import Indexing
import SourceModel
import Platform
import Search

/// `codesage-bench retrieval`: runs the queries of a retrieval benchmark (../shared/eval format)
/// against an indexed root and writes the top 10 per query as JSON lines, plus latency figures.
enum RetrievalBench {
    static func run(args: [String], configuration: Configuration, modelPath: String) throws {
        guard let root = option("--root", in: args), let queriesPath = option("--queries", in: args),
              let out = option("--out", in: args) else {
            throw CodeSageError(.invalidArgument, "usage: codesage-bench retrieval --root DIR --queries Q.jsonl --out R.jsonl [--field query] [--mode hybrid]")
        }
        let field = option("--field", in: args) ?? "query"
        let modes = (option("--mode", in: args) ?? "hybrid").split(separator: ",").compactMap { SearchMode(rawValue: String($0)) }
        let layout = try Workspace.layout(root: root, indexDirectory: configuration.indexDirectory)
        let snapshot = try IndexSnapshot.open(layout: layout, memoryMap: configuration.memoryMappedIndexes)
        let embedder = try ModelLoading.embedder(modelPath: modelPath, quantized: configuration.modelQuantizationEnabled)
        try snapshot.requireModel(embedder.identity)
        let engine = SearchEngine(snapshot: snapshot, embedder: embedder)

        let lines = try String(contentsOfFile: queriesPath, encoding: .utf8).split(separator: "\n")
        let queries = try lines.map { line -> (id: String, text: String) in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return (object["id"] as? String ?? "", object[field] as? String ?? "")
        }
        if let dump = option("--dump-candidates", in: args) {
            // Semantic and lexical candidate lists with scores and chunk metadata, for fusion experiments.
            var output = ""
            for query in queries {
                let semantic = try engine.semanticCandidates(query.text, depth: 100)
                let lexical = try engine.lexicalCandidates(query.text, depth: 100)
                let chunks = try snapshot.withStore { (store) throws(CodeSageError) in try store.chunks(ids: semantic.map(\.id) + lexical.map(\.id)) }
                func items(_ list: [(id: Int64, score: Double)]) -> [[String: Any]] {
                    list.compactMap { c in chunks[c.id].map { ["id": c.id, "score": c.score, "path": $0.path, "start_line": $0.chunk.startLine,
                                                               "end_line": $0.chunk.endLine, "symbol": $0.chunk.symbol ?? "", "part": $0.chunk.part, "parts": $0.chunk.partCount, "kind": $0.chunk.kind ?? "", "tokens": $0.chunk.tokenCount] } }
                }
                let object: [String: Any] = ["id": query.id, "semantic": items(semantic), "lexical": items(lexical)]
                output += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) + "\n"
            }
            try output.write(toFile: dump, atomically: true, encoding: .utf8)
        }
        for mode in modes {
            var output = ""
            var latencies: [Double] = []
            for query in queries {
                let start = DispatchTime.now().uptimeNanoseconds
                let results = try engine.search(SearchRequest(query: query.text, mode: mode, limit: 10))
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                let items = results.map { ["path": $0.path, "start_line": $0.startLine, "end_line": $0.endLine, "score": $0.score] as [String: Any] }
                let object: [String: Any] = ["id": query.id, "results": items]
                output += String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self) + "\n"
            }
            let path = modes.count == 1 ? out : out.replacingOccurrences(of: ".jsonl", with: "-\(mode.rawValue).jsonl")
            try output.write(toFile: path, atomically: true, encoding: .utf8)
            latencies.sort()
            print(String(format: "%@ %@: %d queries, latency p50 %.2f ms, p99 %.2f ms -> %@", mode.rawValue, field, queries.count,
                         latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)], path))
        }
    }
}
