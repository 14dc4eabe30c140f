import CodeSageCore
import CodeSageService
import Foundation
import IndexStore
import Indexing
import Platform
import Search
import SourceModel

/// `codesage-bench update-cost --source SRC [--chunks 10000,100000] [--edits 30] [--full-edits 8] [--updates 1000]`:
/// what a one-file update costs with the delta segment against a full rebuild of the vector index, side by side on
/// the same index, and the recall@10 of base + delta after many updates and after compaction.
///
/// The index is synthetic (`SearchLatencyBench.buildSyntheticIndex` with the files written to disk: 12 real source
/// lines per chunk, ten chunks per file, clustered random vectors for the chunks nobody edits); every edit appends a
/// function to one file, and the run re-reads, re-chunks and embeds that file with the real model, as `codesage index` does.
enum UpdateCostBench {
    static func run(args: [String], configuration: Configuration, modelPath: String) throws {
        guard let source = option("--source", in: args) else {
            throw CodeSageError(.invalidArgument, "usage: codesage-bench update-cost --source DIR [--chunks 10000,100000] [--edits 30] [--full-edits 8] [--updates 1000]")
        }
        let sizes = (option("--chunks", in: args) ?? "10000,100000").split(separator: ",").compactMap { Int($0) }
        let edits = option("--edits", in: args).flatMap(Int.init) ?? 30
        let fullEdits = option("--full-edits", in: args).flatMap(Int.init) ?? 8
        let updates = option("--updates", in: args).flatMap(Int.init) ?? 1_000
        let lines = try SearchLatencyBench.sourceLines(source)
        let embedder = try ModelLoading.embedder(modelPath: modelPath, quantized: configuration.modelQuantizationEnabled)
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(ProcessInfoReader.loadAverage()); model \(embedder.identity)")
        for size in sizes {
            let folder = try FileSystem.makeTemporaryFolder(prefix: "codesage-update")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let layout = IndexLayout(root: try FileSystem.realPath(resolving: folder))
            try FileSystem.makeFolders(layout.directory)
            let files = max(1, size / 10)
            let started = Date()
            try SearchLatencyBench.buildSyntheticIndex(layout: layout, chunks: size, lines: lines, dimension: embedder.dimension,
                                                       identity: embedder.identity, configuration: configuration, files: files, writeFiles: true)
            let manifest = try IndexManifest.read(path: layout.manifestPath)!
            print(String(format: "%d chunks in %d files: built in %.1f s; base %@ nprobe %d (%d bytes)", size, files,
                         Date().timeIntervalSince(started), manifest.vectors!.factory, manifest.vectors!.nprobe, manifest.vectors!.bytes))
            var editor = Editor(layout: layout, files: files)
            // Warm-up: the first run opens the store and loads the model's lazy state.
            _ = try measure(layout: layout, embedder: embedder, configuration: configuration, deltaLimit: nil, editor: &editor)

            // Side by side, alternating blocks on the same index: delta, full, delta.
            var delta: [Sample] = []
            var full: [Sample] = []
            for block in 0..<3 {
                let isFull = block == 1
                for _ in 0..<(isFull ? fullEdits : edits / 2) {
                    let sample = try measure(layout: layout, embedder: embedder, configuration: configuration, deltaLimit: isFull ? 0 : nil, editor: &editor)
                    if isFull { full.append(sample) } else { delta.append(sample) }
                }
            }
            report("delta", delta)
            report("full rebuild", full)

            // Many updates: the delta grows, is compacted at its limit, grows again.
            var compactions = 0
            var lastDelta = 0
            let before = Date()
            for _ in 0..<updates {
                let sample = try measure(layout: layout, embedder: embedder, configuration: configuration, deltaLimit: nil, editor: &editor)
                if sample.compacted { compactions += 1 }
                lastDelta = sample.deltaVectors + sample.tombstones
            }
            let recallAfterUpdates = try recall(layout: layout)
            print(String(format: "  after %d more updates (%.0f s, %d compactions): delta %d vectors + tombstones; recall@10 of base+delta vs exact %.3f",
                         updates, Date().timeIntervalSince(before), compactions, lastDelta, recallAfterUpdates.recall))
            _ = try measure(layout: layout, embedder: embedder, configuration: configuration, deltaLimit: 0, editor: &editor)
            let recallAfterCompaction = try recall(layout: layout)
            print(String(format: "  after compaction: recall@10 %.3f (base %@ nprobe %d, %d queries)", recallAfterCompaction.recall,
                         recallAfterCompaction.factory, recallAfterCompaction.nprobe, recallAfterCompaction.queries))
        }
    }

    /// Appends a uniquely named function to a random file and moves its time forward, as a save does.
    struct Editor {
        let layout: IndexLayout
        let files: Int
        var count = 0

        mutating func edit() throws {
            count += 1
            let file = Int.random(in: 0..<files)
            let path = layout.root + "/pkg\(file / 100)/module_\(file).py"
            let text = try FileSystem.readText(path) + "def bench_edit_\(count)(value):\n    return value + \(count)\n"
            try FileSystem.writeDurably(Array(text.utf8), to: path)
        }
    }

    /// One update: wall and CPU time, bytes written, time per phase, and what the run did to the vectors.
    struct Sample {
        var seconds: Double
        var cpuSeconds: Double
        var bytesWritten: Int
        var phases: [IndexPhase: Double]
        var deltaVectors: Int
        var tombstones: Int
        var compacted: Bool
        var vectorUpdate: String
    }

    static func measure(layout: IndexLayout, embedder: any TextEmbedder, configuration: Configuration, deltaLimit: Int?,
                        editor: inout Editor) throws -> Sample {
        try editor.edit()
        var options = IndexOptions(configuration: configuration)
        options.deltaLimit = deltaLimit
        let cpu0 = cpuSeconds(), written0 = bytesWritten(), start = DispatchTime.now().uptimeNanoseconds
        var marks: [(IndexPhase, UInt64)] = []
        let report = try Indexer(layout: layout, embedder: embedder, options: options).run(progress: { phase, _, _ in
            if marks.last?.0 != phase { marks.append((phase, DispatchTime.now().uptimeNanoseconds)) }
        })
        let end = DispatchTime.now().uptimeNanoseconds
        var phases: [IndexPhase: Double] = [:]
        for (i, mark) in marks.enumerated() {
            let until = i + 1 < marks.count ? marks[i + 1].1 : end
            phases[mark.0, default: 0] += Double(until - mark.1) / 1e9
        }
        guard report.published else { throw CodeSageError(.internal, "an edit published nothing") }
        return Sample(seconds: Double(end - start) / 1e9, cpuSeconds: cpuSeconds() - cpu0, bytesWritten: bytesWritten() - written0,
                      phases: phases, deltaVectors: report.deltaVectors, tombstones: report.tombstones, compacted: report.compacted,
                      vectorUpdate: report.vectorUpdate)
    }

    static func report(_ name: String, _ samples: [Sample]) {
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        func p99(_ values: [Double]) -> Double { values.sorted()[min(values.count - 1, values.count * 99 / 100)] }
        let phaseText = [IndexPhase.discovering, .reading, .embedding, .buildingVectors, .publishing, .compacting].compactMap { phase -> String? in
            let values = samples.map { $0.phases[phase] ?? 0 }
            return values.allSatisfy { $0 == 0 } ? nil : String(format: "%@ %.3f", phase.rawValue, median(values))
        }.joined(separator: ", ")
        print(String(format: "  %@ (%d updates): wall p50 %.3f s, p99 %.3f s; CPU p50 %.3f s; written p50 %.2f MB; delta at the end %d vectors + %d tombstones%@",
                     name, samples.count, median(samples.map(\.seconds)), p99(samples.map(\.seconds)), median(samples.map(\.cpuSeconds)),
                     median(samples.map { Double($0.bytesWritten) / 1e6 }), samples.last?.deltaVectors ?? 0, samples.last?.tombstones ?? 0,
                     samples.contains(where: \.compacted) ? " (compacted \(samples.filter(\.compacted).count)×)" : ""))
        print("    phases (p50 s): \(phaseText)")
    }

    /// Recall@10 of the published generation's searches (base minus tombstones, plus delta) against an exact
    /// search of every vector it holds, with 256 of its own vectors as queries.
    static func recall(layout: IndexLayout) throws -> (recall: Double, factory: String, nprobe: Int, queries: Int) {
        let snapshot = try IndexSnapshot.open(layout: layout)
        let dimension = snapshot.manifest.model.dimension
        let (ids, matrix) = try snapshot.withStore { (store) throws(CodeSageError) in try store.vectors(at: snapshot.generation, dimension: dimension) }
        let sample = VectorIndexBuilder.sampleRows(count: ids.count, limit: 256)
        let queries = sample.flatMap { row in matrix[(row * dimension)..<((row + 1) * dimension)] }
        let exact = try VectorIndexBuilder.exactTop10(matrix: matrix, dimension: dimension, queries: queries)
        let found = try sample.indices.map { q in
            try snapshot.segments!.search(Array(queries[(q * dimension)..<((q + 1) * dimension)]), k: 10).map(\.id)
        }
        return (VectorIndexBuilder.recallAt10(exact: exact, approximate: found, ids: ids), snapshot.manifest.vectors?.factory ?? "",
                snapshot.manifest.vectors?.nprobe ?? 0, sample.count)
    }

    /// User plus system CPU seconds of this process (all threads).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Bytes this process passed to write(2) and its kin so far (`wchar` of /proc/self/io).
    static func bytesWritten() -> Int {
        guard let text = try? FileSystem.readText("/proc/self/io") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("wchar:") {
            return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}
