import Caching
import CodeSageCore
import Foundation
import CodeSageService
import IndexStore
import Indexing
import SourceModel
import Platform

/// `codesage-bench cache-entries --source DIR`: what one cached entry really costs. Fills the
/// embedding cache with 5,000 vectors and the file cache with the source files under DIR (LZ4,
/// zstd, none), and reports for each the bytes the cache accounts and the heap growth glibc
/// reports (`mallinfo2`), per entry; for the file cache also the original size (compression ratio).
enum CacheEntryBench {
    static func run(args: [String]) throws {
        guard let source = option("--source", in: args) else {
            throw CodeSageError(.invalidArgument, "usage: codesage-bench cache-entries --source DIR")
        }
        func measure(_ label: String, fill: () throws -> CacheStatistics) rethrows {
            ProcessMemory.releaseFreedMemory()
            let before = ProcessMemory.heapBytesInUse()
            let stats = try fill()
            let grown = ProcessMemory.heapBytesInUse() - before
            let line = String(format: "%@: %d entries, accounted %.0f bytes/entry, heap growth %.0f bytes/entry",
                              label, stats.entries, stats.bytesPerEntry, Double(grown) / Double(max(1, stats.entries)))
            print(line)
        }
        var generator = SystemRandomNumberGenerator()
        let embedding = LRUCache<[UInt8], [Float]>(name: "embedding", maxEntries: 5_000)
        measure("embedding cache (384-d vectors)") {
            let cache = CachingEmbedder(first: FixedSizeModel(), cache: embedding) { () throws(CodeSageError) in FixedSizeModel() }
            for i in 0..<5_000 {
                cache.remember((0..<384).map { _ in Float.random(in: -1...1, using: &generator) }, key: cache.key("text \(i)"))
            }
            return embedding.statistics()
        }
        let files = try FileDiscovery.discover(root: source).files.map { source + "/" + $0.relativePath }.prefix(2_000)
        for codec in [CacheCompression.lz4, .zstd, .none] {
            let cache = FileCache(maxEntries: files.count, compression: codec)
            var original = 0
            try measure("file cache (\(codec.rawValue), \(files.count) source files)") {
                for path in files { if case .bytes(let b) = try cache.contents(of: path) { original += b.count } }
                return cache.statistics()
            }
            print(String(format: "  original %.0f bytes/file, %.2f× smaller in the cache", Double(original) / Double(max(1, files.count)),
                         Double(original) / Double(max(1, cache.statistics().bytes))))
        }
    }

    /// Only its identity and shape are used (the vectors are given).
    struct FixedSizeModel: TextEmbedder {
        let identity = "all-MiniLM-L6-v2/fp32/size-only"
        let dimension = 384
        let maxTokens = 256
        func countTokens(_ text: Substring) -> Int { 0 }
        func embed(_ texts: [String]) throws(CodeSageError) -> [[Float]] {
            throw CodeSageError(.internal, "this model only names a shape")
        }
    }
}
