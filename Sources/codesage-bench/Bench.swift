import CBLAS
import CodeSageCore
import CodeSageService
import Embedding
import Foundation
import Platform

/// `embed-tool bench`: throughput, latency, GFLOP/s and peak RSS, fp32 and int8.
enum Bench {
    static func run(chunksPath: String, modelURL: URL, args: [String]) throws {
        let texts = try JSONTextList.texts(from: try Data(contentsOf: URL(fileURLWithPath: chunksPath)))
        let threads = option("--threads", in: args).flatMap(Int.init) ?? ProcessInfo.processInfo.activeProcessorCount
        let blas = option("--blas-threads", in: args).flatMap(Int.init) ?? 1
        let modes = option("--modes", in: args)?.split(separator: ",").map(String.init) ?? ["fp32", "int8"]
        let limit = option("--limit", in: args).flatMap(Int.init) ?? texts.count
        let chunks = Array(texts.prefix(limit))
        // --int8-batches u8s8 (default) | int16 | sgemm; "integer" (the former default) means u8s8.
        let batchArg = option("--int8-batches", in: args) ?? "u8s8"
        guard let product = Int8BatchProduct(rawValue: batchArg == "integer" ? "u8s8" : batchArg) else {
            throw CodeSageError(.invalidArgument, "--int8-batches \(batchArg): expected one of u8s8, int16, sgemm")
        }
        let outliers = option("--int8-outliers", in: args).flatMap(Int.init) ?? EncoderOptions().int8OutlierChannels
        let options = EncoderOptions(threads: threads, blasThreads: blas, int8BatchProduct: product, int8OutlierChannels: outliers)

        openblas_set_num_threads(Int32(threads))
        let peak = sgemmPeak()
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(ProcessInfoReader.loadAverage())")
        print(String(format: "cblas_sgemm 1024^3 peak (%d threads): %.1f GFLOP/s", threads, peak))
        print("chunks: \(chunks.count), workers: \(threads), OpenBLAS threads per worker: \(blas), int8 batches: \(product.rawValue)\(product == .u8s8 ? ", \(options.int8OutlierChannels) outlier channels" : "")")

        var embeddings: [String: [[Float]]] = [:]
        for mode in modes {
            let t0 = Date()
            let encoder = try ModelLoading.encoder(modelPath: modelURL.path, quantized: mode == "int8", options: options)
            let loadTime = Date().timeIntervalSince(t0)
            let tokenized = chunks.map(encoder.tokenize)
            let tokens = tokenized.reduce(0) { $0 + $1.ids.count }
            let flops = tokenized.reduce(0.0) { $0 + forwardFLOPs(encoder.config, len: $1.ids.count) }
            _ = encoder.embed(Array(chunks.prefix(4)))  // warm-up
            let t1 = Date()
            let results = encoder.embed(chunks)
            let dt = Date().timeIntervalSince(t1)
            precondition(results.count == chunks.count)
            let gflops = flops / dt / 1e9
            embeddings[mode] = results.map(\.embedding)

            // Single-query latency: ~10-token queries, one at a time.
            let queries = (0..<200).map { singleQueries[$0 % singleQueries.count] }
            var lat: [Double] = []
            for q in queries {
                let s = DispatchTime.now().uptimeNanoseconds
                _ = encoder.embed([q])
                lat.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e6)
            }
            lat.sort()
            let qTokens = Double(queries.reduce(0) { $0 + encoder.tokenize($1).ids.count }) / Double(queries.count)
            print("""
            [\(mode)] load \(String(format: "%.2f", loadTime)) s; \(chunks.count) chunks, \(tokens) tokens in \(String(format: "%.2f", dt)) s
            [\(mode)]   \(String(format: "%.2f", Double(chunks.count) / dt)) chunks/s, \(String(format: "%.0f", Double(tokens) / dt)) tokens/s, \(String(format: "%.1f", gflops)) GFLOP/s = \(String(format: "%.0f", 100 * gflops / peak)) % of sgemm peak
            [\(mode)]   single query (mean \(String(format: "%.1f", qTokens)) tokens): median \(String(format: "%.2f", lat[lat.count / 2])) ms, p90 \(String(format: "%.2f", lat[lat.count * 9 / 10])) ms
            [\(mode)]   weights mapped \(encoder.bytesMapped / 1_048_576) MiB, resident \(encoder.bytesResident() / 1_048_576) MiB; peak RSS (VmHWM) \(vmHWM())
            """)
        }
        if let a = embeddings["fp32"], let b = embeddings["int8"] {
            // Agreement of the two modes on every chunk (the embeddings are unit vectors).
            let cosines = zip(a, b).map { x, y in zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }.sorted()
            if !cosines.isEmpty {
                print(String(format: "int8 vs fp32 cosine over %d chunks: min %.4f, 1st percentile %.4f, mean %.5f", cosines.count,
                             cosines[0], cosines[cosines.count / 100], cosines.reduce(0, +) / Double(cosines.count)))
            }
        }
        print("load after: \(ProcessInfoReader.loadAverage())")
    }

    /// Code-search queries of about ten tokens each (with [CLS] and [SEP]), as the benchmark specifies.
    static let singleQueries = [
        "parse command line arguments into a dictionary",
        "open a tcp socket and send bytes",
        "read the configuration file from disk",
        "retry a failed http request with backoff",
        "compute the sha256 hash of a file",
        "sort a list of users by name",
        "convert a date string to a timestamp",
        "spawn a subprocess and capture its output",
        "thread safe queue with a lock",
        "walk a directory tree and list files",
    ]

    /// Multiply-adds ×2 of one sequence through the model (linear layers + attention).
    static func forwardFLOPs(_ c: ModelConfig, len: Int) -> Double {
        let t = Double(len), h = Double(c.hiddenSize), i = Double(c.intermediateSize)
        let linear = 2 * t * h * (3 * h + h + 2 * i)
        let attention = 2 * 2 * t * t * h
        return Double(c.numHiddenLayers) * (linear + attention)
    }

    /// Measured cblas_sgemm 1024³ GFLOP/s (best of 5).
    static func sgemmPeak() -> Double {
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = 0.0
        for _ in 0..<5 {
            let s = DispatchTime.now().uptimeNanoseconds
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
            let dt = Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9
            best = max(best, 2 * Double(n * n * n) / dt / 1e9)
        }
        return best
    }

    /// Peak RSS from the kernel (VmHWM), via Platform's /proc reader.
    static func vmHWM() -> String {
        guard let memory = try? ProcessMemory.read() else { return "?" }
        return "\(memory.peakRSS / 1024) kB"
    }
}
