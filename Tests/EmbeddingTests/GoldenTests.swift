import Foundation
import Testing
@testable import Embedding

@Suite("Golden reference (sentence-transformers)")
struct GoldenTests {
    @Test("fp32: ids identical, cosine ≥ 0.9999, max abs diff ≤ 1e-4 on every item")
    func fp32Golden() throws {
        let items = try TestSupport.golden()
        #expect(items.count == 20)
        let encoder = try #require(TestSupport.encoder)
        let results = encoder.embed(items.map(\.text))
        var worst: Float = 0
        for (item, result) in zip(items, results) {
            if item.input_ids != result.ids {
                let i = (0..<min(item.input_ids.count, result.ids.count)).first { item.input_ids[$0] != result.ids[$0] } ?? min(item.input_ids.count, result.ids.count)
                let show = { (ids: [Int32]) in ids[min(i, ids.count)...].prefix(5).map { encoder.tokenizer.token(for: $0) } }
                Issue.record("ids differ for \(item.text.prefix(40).debugDescription) at \(i): expected \(show(item.input_ids)), got \(show(result.ids))")
            }
            let cos = TestSupport.cosine(item.embedding, result.embedding)
            let diff = TestSupport.maxAbsDiff(item.embedding, result.embedding)
            worst = max(worst, diff)
            #expect(cos >= 0.9999, "cosine \(cos) for \(item.text.prefix(40).debugDescription)")
            #expect(diff <= 1e-4, "max abs diff \(diff) for \(item.text.prefix(40).debugDescription)")
        }
        #expect(worst <= 1e-5, "max abs diff over all items \(worst) (float32 noise is ~3e-7)")
    }

    @Test("int8: every golden item's cosine to the reference ≥ 0.99")
    func int8Golden() throws {
        let items = try TestSupport.golden()
        let dir = try TestSupport.tempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let encoder = try Encoder(quantizedModelDirectory: TestSupport.modelDirectory,
                                  quantizedURL: dir.appendingPathComponent("model.int8.cswq"),
                                  options: EncoderOptions(int8DirectMaxTokens: 0))
        let results = encoder.embed(items.map(\.text))
        var worst = 1.0
        for (item, result) in zip(items, results) {
            #expect(item.input_ids == result.ids)
            let cos = TestSupport.cosine(item.embedding, result.embedding)
            worst = min(worst, cos)
            #expect(cos >= 0.99, "int8 cosine \(cos) for \(item.text.prefix(40).debugDescription)")
        }
        print("int8 golden, u8 × s8 batches, \(encoder.options.int8OutlierChannels) outlier channels: minimum cosine \(worst)")
        // The other batch products (int16 activations; dequantise + sgemm) pass too.
        for product in [Int8BatchProduct.int16, .sgemm] {
            let other = try Encoder(quantizedModelDirectory: TestSupport.modelDirectory,
                                    quantizedURL: dir.appendingPathComponent("model.int8.cswq"),
                                    options: EncoderOptions(int8DirectMaxTokens: 0, int8BatchProduct: product))
            var low = 1.0
            for (item, result) in zip(items, other.embed(items.map(\.text))) {
                let cos = TestSupport.cosine(item.embedding, result.embedding)
                low = min(low, cos)
                #expect(cos >= 0.99, "\(product) cosine \(cos)")
            }
            print("int8 golden, \(product) batches: minimum cosine \(low)")
        }
        // The direct int8 dot-product path (int8 activations too) also passes, on short texts.
        let direct = try Encoder(quantizedModelDirectory: TestSupport.modelDirectory,
                                 quantizedURL: dir.appendingPathComponent("model.int8.cswq"),
                                 options: EncoderOptions(int8DirectMaxTokens: 1_000))
        let short = Array(items.filter { $0.input_ids.count <= 16 }.prefix(3))
        for (item, b) in zip(short, direct.embed(short.map(\.text))) {
            #expect(TestSupport.cosine(item.embedding, b.embedding) >= 0.99)
        }
    }
}
