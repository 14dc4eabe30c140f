import Foundation
import Testing
@testable import Embedding

@Suite("ModelConfig")
struct ConfigTests {
    /// Copies the model folder's config files into a temp folder (weights symlinked).
    func copyModel(editing edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = try TestSupport.tempDirectory()
        let src = TestSupport.modelDirectory
        for name in ["vocab.txt", "tokenizer_config.json", "sentence_bert_config.json", "modules.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name), withDestinationURL: src.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("1_Pooling"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: src.appendingPathComponent("1_Pooling/config.json"), to: dir.appendingPathComponent("1_Pooling/config.json"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        return dir
    }

    @Test("the model's config")
    func load() throws {
        let c = try ModelConfig.load(modelDirectory: TestSupport.modelDirectory)
        #expect(c == ModelConfig(hiddenSize: 384, numHiddenLayers: 6, numAttentionHeads: 12, intermediateSize: 1536,
                                 maxPositionEmbeddings: 512, typeVocabSize: 2, vocabSize: 30522, layerNormEps: 1e-12,
                                 maxSeqLength: 256, pooling: .mean, normalize: true))
    }

    @Test("a changed hidden_size names the first mismatching tensor exactly")
    func mismatch() throws {
        let dir = try copyModel { $0["hidden_size"] = 380; $0["num_attention_heads"] = 10 }
        defer { try? FileManager.default.removeItem(at: dir) }
        expect(throwsMessage: "tensor embeddings.word_embeddings.weight: expected shape [30522, 380] F32, found [30522, 384] F32") {
            _ = try Encoder(modelDirectory: dir)
        }
        let dir2 = try copyModel { $0["intermediate_size"] = 1024 }
        defer { try? FileManager.default.removeItem(at: dir2) }
        expect(throwsMessage: "tensor encoder.layer.0.intermediate.dense.weight: expected shape [1024, 384] F32, found [1536, 384] F32") {
            _ = try Encoder(modelDirectory: dir2)
        }
    }

    @Test("unsupported activation and pooling are refused")
    func unsupported() throws {
        let dir = try copyModel { $0["hidden_act"] = "relu" }
        defer { try? FileManager.default.removeItem(at: dir) }
        expect(throwsMessage: "config.json: hidden_act \"relu\" is not supported (only \"gelu\", exact erf)") {
            _ = try ModelConfig.load(modelDirectory: dir)
        }
        let dir2 = try copyModel { _ in }
        defer { try? FileManager.default.removeItem(at: dir2) }
        let pooling = #"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#
        try Data(pooling.utf8).write(to: dir2.appendingPathComponent("1_Pooling/config.json"))
        expect(throwsMessage: "1_Pooling/config.json: only mean pooling is supported (found pooling_mode_cls_token)") {
            _ = try ModelConfig.load(modelDirectory: dir2)
        }
    }
}
