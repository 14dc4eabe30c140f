import Foundation

/// How token states are pooled into one vector.
public enum PoolingMode: String, Sendable {
    /// Mean over the tokens with attention mask 1 (including `[CLS]` and `[SEP]`).
    case mean
}

/// The model's hyper-parameters, from `config.json`, `sentence_bert_config.json`,
/// `1_Pooling/config.json` and `modules.json` of a sentence-transformers folder.
public struct ModelConfig: Sendable, Equatable {
    /// Width of the hidden states (384).
    public var hiddenSize: Int
    /// Number of transformer layers (6).
    public var numHiddenLayers: Int
    /// Number of attention heads (12).
    public var numAttentionHeads: Int
    /// Width of the feed-forward layer (1536).
    public var intermediateSize: Int
    /// Rows of the position embedding table (512).
    public var maxPositionEmbeddings: Int
    /// Rows of the token-type embedding table (2).
    public var typeVocabSize: Int
    /// Rows of the word embedding table (30522).
    public var vocabSize: Int
    /// LayerNorm epsilon (1e-12).
    public var layerNormEps: Float
    /// Longest input in tokens, including `[CLS]`/`[SEP]` (256).
    public var maxSeqLength: Int
    /// Pooling of token states.
    public var pooling: PoolingMode
    /// Whether the pipeline ends with L2 normalisation (a Normalize module).
    public var normalize: Bool

    /// Width of one attention head.
    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// Creates a configuration from its values.
    public init(hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                maxPositionEmbeddings: Int, typeVocabSize: Int, vocabSize: Int, layerNormEps: Float,
                maxSeqLength: Int, pooling: PoolingMode = .mean, normalize: Bool = true) {
        self.hiddenSize = hiddenSize; self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads; self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings; self.typeVocabSize = typeVocabSize
        self.vocabSize = vocabSize; self.layerNormEps = layerNormEps; self.maxSeqLength = maxSeqLength
        self.pooling = pooling; self.normalize = normalize
    }

    /// Reads the configuration files of the sentence-transformers folder `directory`.
    public static func load(modelDirectory directory: URL) throws -> ModelConfig {
        func json(_ relative: String, required: Bool = true) throws -> [String: Any]? {
            let url = directory.appendingPathComponent(relative)
            guard let data = try? Data(contentsOf: url) else {
                if required { throw EmbeddingError.invalidConfig("cannot read \(url.path)") }
                return nil
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw EmbeddingError.invalidConfig("\(relative) is not a JSON object")
            }
            return object
        }
        let c = try json("config.json")!
        func int(_ key: String) throws -> Int {
            guard let v = (c[key] as? NSNumber)?.intValue, v > 0 else {
                throw EmbeddingError.invalidConfig("config.json: \(key) must be a positive integer")
            }
            return v
        }
        let act = c["hidden_act"] as? String ?? "missing"
        guard act == "gelu" else {
            throw EmbeddingError.invalidConfig("config.json: hidden_act \"\(act)\" is not supported (only \"gelu\", exact erf)")
        }
        if let pos = c["position_embedding_type"] as? String, pos != "absolute" {
            throw EmbeddingError.invalidConfig("config.json: position_embedding_type \"\(pos)\" is not supported (only \"absolute\")")
        }
        let eps = (c["layer_norm_eps"] as? NSNumber)?.floatValue ?? 1e-12
        var config = ModelConfig(
            hiddenSize: try int("hidden_size"), numHiddenLayers: try int("num_hidden_layers"),
            numAttentionHeads: try int("num_attention_heads"), intermediateSize: try int("intermediate_size"),
            maxPositionEmbeddings: try int("max_position_embeddings"), typeVocabSize: try int("type_vocab_size"),
            vocabSize: try int("vocab_size"), layerNormEps: eps, maxSeqLength: 0)
        guard config.hiddenSize % config.numAttentionHeads == 0 else {
            throw EmbeddingError.invalidConfig("config.json: hidden_size \(config.hiddenSize) is not a multiple of num_attention_heads \(config.numAttentionHeads)")
        }
        let sbert = try json("sentence_bert_config.json", required: false)
        let maxSeq = (sbert?["max_seq_length"] as? NSNumber)?.intValue ?? 256
        guard maxSeq >= 2, maxSeq <= config.maxPositionEmbeddings else {
            throw EmbeddingError.invalidConfig("max_seq_length \(maxSeq) must be in 2...\(config.maxPositionEmbeddings)")
        }
        config.maxSeqLength = maxSeq

        // modules.json: find the Pooling folder and whether a Normalize module follows.
        var poolingPath = "1_Pooling"
        config.normalize = false
        if let data = try? Data(contentsOf: directory.appendingPathComponent("modules.json")),
           let modules = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
            for m in modules {
                let type = m["type"] as? String ?? ""
                if type.hasSuffix(".Pooling"), let p = m["path"] as? String { poolingPath = p }
                if type.hasSuffix(".Normalize") { config.normalize = true }
            }
        } else {
            config.normalize = true
        }
        if let p = try json(poolingPath + "/config.json", required: false) {
            let modes = ["pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                         "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"]
            let others = modes.filter { (p[$0] as? Bool) == true }
            guard (p["pooling_mode_mean_tokens"] as? Bool) == true, others.isEmpty else {
                throw EmbeddingError.invalidConfig("\(poolingPath)/config.json: only mean pooling is supported (found \(others.isEmpty ? "no mean pooling" : others.joined(separator: ", ")))")
            }
        }
        return config
    }

    /// Every tensor the encoder reads, with its expected shape (all F32), without prefix.
    public var requiredTensors: [(name: String, shape: [Int])] {
        let h = hiddenSize, i = intermediateSize
        var list: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [vocabSize, h]),
            ("embeddings.position_embeddings.weight", [maxPositionEmbeddings, h]),
            ("embeddings.token_type_embeddings.weight", [typeVocabSize, h]),
            ("embeddings.LayerNorm.weight", [h]), ("embeddings.LayerNorm.bias", [h]),
        ]
        for l in 0..<numHiddenLayers {
            let p = "encoder.layer.\(l)."
            for n in ["query", "key", "value"] {
                list.append((p + "attention.self.\(n).weight", [h, h]))
                list.append((p + "attention.self.\(n).bias", [h]))
            }
            list += [
                (p + "attention.output.dense.weight", [h, h]), (p + "attention.output.dense.bias", [h]),
                (p + "attention.output.LayerNorm.weight", [h]), (p + "attention.output.LayerNorm.bias", [h]),
                (p + "intermediate.dense.weight", [i, h]), (p + "intermediate.dense.bias", [i]),
                (p + "output.dense.weight", [h, i]), (p + "output.dense.bias", [h]),
                (p + "output.LayerNorm.weight", [h]), (p + "output.LayerNorm.bias", [h]),
            ]
        }
        return list
    }

    /// Checks that `file` has every required tensor with the right dtype and shape, and returns
    /// the name prefix in use (`""` or `"bert."`).
    public func validate(_ file: SafetensorsFile) throws -> String {
        let prefix = file.tensors["embeddings.word_embeddings.weight"] == nil
            && file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func fmt(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }
        for (name, shape) in requiredTensors {
            guard let info = file.tensors[prefix + name] else {
                throw EmbeddingError.tensorMismatch("tensor \(name): missing (expected shape \(fmt(shape)) F32)")
            }
            guard info.shape == shape, info.dtype == "F32" else {
                throw EmbeddingError.tensorMismatch("tensor \(name): expected shape \(fmt(shape)) F32, found \(fmt(info.shape)) \(info.dtype)")
            }
        }
        return prefix
    }
}
