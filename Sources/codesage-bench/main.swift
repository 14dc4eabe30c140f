import CodeSageCore
import Foundation
import Platform

/// `codesage-bench embed --chunks FILE.json [--model PATH] [--threads N] [--blas-threads N] [--modes fp32,int8] [--limit N]
///     [--int8-batches u8s8|int16|sgemm] [--int8-outliers N]`
/// `codesage-bench retrieval --root DIR --queries Q.jsonl --out R.jsonl [--field query] [--mode hybrid,semantic,lexical]`
/// `codesage-bench search-latency --source DIR --queries Q.jsonl [--chunks 10000,100000]`
/// `codesage-bench synthetic-index --root DIR --source SRC [--chunks N] [--files F]`
/// `codesage-bench update-cost --source DIR [--chunks 10000,100000] [--edits 30] [--full-edits 8] [--updates 1000]`
/// `codesage-bench cache-entries --source DIR`
/// Results go to stdout; run through scripts/bench-embed.
func option(_ name: String, in args: [String]) -> String? {
    guard let index = args.firstIndex(of: name), index + 1 < args.count else { return nil }
    return args[index + 1]
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    if args.first == "cache-entries" {
        try CacheEntryBench.run(args: args)
        exit(0)
    }
    if args.first == "retrieval" || args.first == "search-latency" || args.first == "synthetic-index" || args.first == "update-cost" {
        let configuration = try Configuration(environment: ProcessInfoReader.environment(), home: ProcessInfoReader.homeDirectory(),
                                              onlineCPUs: ProcessInfoReader.onlineCPUCount())
        let model = option("--model", in: args) ?? configuration.modelPath
        if args.first == "retrieval" {
            try RetrievalBench.run(args: args, configuration: configuration, modelPath: model)
        } else if args.first == "update-cost" {
            try UpdateCostBench.run(args: args, configuration: configuration, modelPath: model)
        } else if args.first == "synthetic-index" {
            try SearchLatencyBench.keep(args: args, configuration: configuration, modelPath: model)
        } else {
            try SearchLatencyBench.run(args: args, configuration: configuration, modelPath: model)
        }
        exit(0)
    }
    guard args.first == "embed", let chunks = option("--chunks", in: args) else {
        StandardStreams.writeError("usage: codesage-bench embed --chunks FILE.json [--model PATH] [--threads N] [--blas-threads N] [--modes fp32,int8] [--limit N] [--int8-batches u8s8|int16|sgemm] [--int8-outliers N]")
        exit(64)
    }
    let configuration = try Configuration(environment: ProcessInfoReader.environment(), home: ProcessInfoReader.homeDirectory(),
                                          onlineCPUs: ProcessInfoReader.onlineCPUCount())
    let model = option("--model", in: args) ?? configuration.modelPath
    try Bench.run(chunksPath: chunks, modelURL: URL(fileURLWithPath: model), args: args)
} catch {
    StandardStreams.writeError("codesage-bench: \(error)")
    exit(1)
}
