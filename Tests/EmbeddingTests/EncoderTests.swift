import CodeSageCore
import Foundation
import Caching
import Testing
@testable import Embedding

@Suite("Encoder batching, threads, cache")
struct EncoderTests {
    static let texts: [String] = [
        "short", "", "a somewhat longer sentence about parsing JSON files in Swift",
        String(repeating: "func f() { return 1 } ", count: 60), "x", "中文 and émoji 🚀",
        "let cache = LRUCache<String, Int>(capacity: 16)", String(repeating: "token ", count: 40),
    ]

    @Test("a batch of mixed lengths equals one-by-one within 1e-5, in input order")
    func batching() throws {
        let encoder = try #require(TestSupport.encoder)
        let batched = encoder.embed(Self.texts)
        for (text, result) in zip(Self.texts, batched) {
            let single = encoder.embed([text])[0]
            #expect(single.ids == result.ids)
            #expect(TestSupport.maxAbsDiff(single.embedding, result.embedding) <= 1e-5)
        }
        // Several threads / tiny batches / multi-threaded OpenBLAS give the same vectors.
        for options in [EncoderOptions(threads: 1, blasThreads: nil, maxBatchSequences: 1),
                        EncoderOptions(threads: 2, maxBatchSequences: 3, maxBatchTokens: 64)] {
            let other = try Encoder(modelDirectory: TestSupport.modelDirectory, options: options)
            for (a, b) in zip(batched, other.embed(Self.texts)) {
                #expect(TestSupport.maxAbsDiff(a.embedding, b.embedding) <= 1e-5)
            }
        }
    }

    @Test("embeddings are unit vectors; empty input gives []")
    func shapes() throws {
        let encoder = try #require(TestSupport.encoder)
        for r in encoder.embed(Self.texts) {
            #expect(r.embedding.count == 384)
            let norm = r.embedding.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
        }
        #expect(encoder.embed([String]()).isEmpty)
        let odd = encoder.embed(tokenized: [TokenizedText(ids: [101, 999_999, -5, 102], truncated: false)])
        #expect(odd[0].ids == [101, 100, 100, 102])
    }

    @Test("quantised weights file: header, size ≥ 70 % smaller, corrupt file refused")
    func quantizedFile() throws {
        let dir = try TestSupport.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.cswq")
        let config = try ModelConfig.load(modelDirectory: TestSupport.modelDirectory)
        let q = try QuantizedWeights.loadOrCreate(modelDirectory: TestSupport.modelDirectory, config: config, url: url)
        let fp32 = try SafetensorsFile(url: TestSupport.modelDirectory.appendingPathComponent("model.safetensors"))
        let fp32Bytes = config.requiredTensors.reduce(0) { $0 + $1.shape.reduce(4, *) }
        #expect(Double(q.file.size) <= 0.3 * Double(fp32Bytes), "int8 file \(q.file.size) vs fp32 weights \(fp32Bytes)")
        #expect(q.fingerprint == QuantizedWeights.fingerprint(of: fp32))
        #expect(q.entries.values.allSatisfy { $0.dataOffset % 64 == 0 })
        let data = try Data(contentsOf: url)
        #expect(Array(data.prefix(4)) == Array("CSWQ".utf8))
        var bad = data
        bad[0] = 0x58
        try bad.write(to: url)
        #expect(throws: CodeSageError.self) { try QuantizedWeights(url: url) }
        // loadOrCreate rewrites a bad file.
        _ = try QuantizedWeights.loadOrCreate(modelDirectory: TestSupport.modelDirectory, config: config, url: url)
        #expect(try QuantizedWeights(url: url).fingerprint == q.fingerprint)
    }

    @Test("ModelCache loads once, counts hits, evicts after the TTL, reloads")
    func cache() async throws {
        let cache = ModelCache<Encoder>(ttl: .milliseconds(200), measure: { ($0.bytesMapped, $0.bytesResident()) }) {
            try Encoder(modelDirectory: TestSupport.modelDirectory)
        }
        let t0 = ContinuousClock.now
        _ = try cache.model(now: t0)
        _ = try cache.model(now: t0)
        var s = cache.stats()
        #expect(s.loads == 1 && s.hits == 1 && s.unloads == 0)
        #expect(s.bytesMapped > 80_000_000 && s.bytesResident > 0)
        #expect(!cache.evictIfIdle(now: t0 + .milliseconds(100)))
        #expect(cache.evictIfIdle(now: t0 + .milliseconds(250)))
        s = cache.stats()
        #expect(s.unloads == 1 && s.bytesMapped == 0)
        _ = try cache.model().embed(["reload"])
        #expect(cache.stats().loads == 2)
        // The background timer evicts by itself.
        cache.startTimer(interval: .milliseconds(50))
        var waited = 0
        while cache.stats().unloads < 2 && waited < 50 { try await Task.sleep(for: .milliseconds(100)); waited += 1 }
        #expect(cache.stats().unloads == 2)
        cache.stopTimer()
    }
}
