import Buffers
import CBLAS
import Platform
import Foundation

/// One text's embedding.
public struct EmbeddingResult: Sendable, Equatable {
    /// The token ids the model saw (`[CLS] … [SEP]`).
    public var ids: [Int32]
    /// Whether the text was cut to the model's max length.
    public var truncated: Bool
    /// The pooled (and, for this model, L2-normalised) vector: [hidden] (384 floats).
    public var embedding: [Float]
}

/// How an `Encoder` spends threads and memory.
public struct EncoderOptions: Sendable, Equatable {
    /// Worker threads that embed batches in parallel (default: all cores).
    public var threads: Int
    /// OpenBLAS threads to set at init (process-wide `openblas_set_num_threads`); `nil` leaves
    /// OpenBLAS as configured (e.g. by `OPENBLAS_NUM_THREADS`). Default 1: the workers already
    /// use every core (measured faster than one worker with multi-threaded OpenBLAS).
    public var blasThreads: Int?
    /// Most sequences in one batch.
    public var maxBatchSequences: Int
    /// Most tokens in one batch (the batch's rows in every matrix product).
    public var maxBatchTokens: Int
    /// int8 mode: batches with at most this many tokens use the small-m kernel that widens the
    /// int8 weights in registers; larger ones use `int8BatchProduct`.
    public var int8DirectMaxTokens: Int
    /// int8 mode, batches above `int8DirectMaxTokens`: how the matrix products are computed.
    public var int8BatchProduct: Int8BatchProduct
    /// `Int8BatchProduct.u8s8`: how many input channels of each product (those with the largest |x|) are kept
    /// out of the 7-bit activations and multiplied in fp32 (0…16). Transformer activations have a few channels
    /// far above the rest, which would otherwise set every row's quantisation step.
    public var int8OutlierChannels: Int
    /// Scratch blocks kept for reuse between calls (CODESAGE_EMBEDDING_POOL_SIZE); 0 allocates per call.
    public var scratchPoolSize: Int

    /// Creates options; see the properties for the defaults.
    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, blasThreads: Int? = 1,
                maxBatchSequences: Int = 32, maxBatchTokens: Int = 4096, int8DirectMaxTokens: Int = 64,
                int8BatchProduct: Int8BatchProduct = .u8s8, int8OutlierChannels: Int = 4, scratchPoolSize: Int = 4) {
        self.threads = max(1, threads)
        self.blasThreads = blasThreads
        self.maxBatchSequences = max(1, maxBatchSequences)
        self.maxBatchTokens = max(1, maxBatchTokens)
        self.int8DirectMaxTokens = int8DirectMaxTokens
        self.int8BatchProduct = int8BatchProduct
        self.int8OutlierChannels = min(max(0, int8OutlierChannels), Kernels.maxOutlierChannels)
        self.scratchPoolSize = max(0, scratchPoolSize)
    }
}

/// How the int8 encoder multiplies a batch's activations with its int8 weights.
public enum Int8BatchProduct: String, Sendable, CaseIterable {
    /// Activations quantised per row to 7-bit unsigned integers with a zero point, times the int8 weights
    /// packed at load, AVX2 `vpmaddubsw` (exact int32 sums), with the `int8OutlierChannels` largest input
    /// channels in fp32; about 1.7–2× `sgemm` on this machine. The default.
    case u8s8
    /// Activations quantised per row to int16, times the int8 weights in place, AVX2 `vpmaddwd`
    /// (exact int32 sums; about as fast as `sgemm`).
    case int16
    /// Each weight matrix dequantised to fp32 scratch, then `sgemm` on fp32 activations.
    case sgemm
}

/// The sentence encoder (all-MiniLM-L6-v2 and other BERT sentence-transformers): tokenise,
/// run the transformer, mean-pool, L2-normalise.
///
/// Immutable after `init` and safe to share between threads (`@unchecked Sendable`: it holds
/// read-only pointers into memory maps and owned buffers); every call allocates its own scratch.
public final class Encoder: @unchecked Sendable {
    /// The model's hyper-parameters.
    public let config: ModelConfig
    /// The model's tokenizer.
    public let tokenizer: BertTokenizer
    /// Threading and batching options.
    public let options: EncoderOptions
    /// Whether linear weights and the word-embedding table are int8.
    public let isQuantized: Bool
    let weights: EncoderWeights
    private let mappedFiles: [MappedFile]
    /// Scratch blocks for embedding calls: preallocated for a 64-token query, grown once to the
    /// shapes in use, kept up to one 256-token sequence's size (larger batches allocate per call).
    public let scratchPool: BufferPool

    /// Loads the fp32 model from a sentence-transformers folder (config files, `vocab.txt`,
    /// `model.safetensors`, memory-mapped). Only the fused Q|K|V weights are copied.
    public convenience init(modelDirectory: URL, options: EncoderOptions = EncoderOptions()) throws {
        let config = try ModelConfig.load(modelDirectory: modelDirectory)
        let file = try SafetensorsFile(url: modelDirectory.appendingPathComponent("model.safetensors"))
        let prefix = try config.validate(file)
        func f(_ name: String) throws -> UnsafePointer<Float> { try file.floats(prefix + name).baseAddress! }
        let h = config.hiddenSize
        var layers: [TransformerLayer] = []
        var owners: [AnyObject] = [file]
        for l in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(l)."
            // Fused QKV: w: [3h, h] = [Wq; Wk; Wv], bias: [3h].
            let fusedW = FloatBuffer(count: 3 * h * h), fusedB = FloatBuffer(count: 3 * h)
            for (i, n) in ["query", "key", "value"].enumerated() {
                (fusedW.pointer + i * h * h).update(from: try f(p + "attention.self.\(n).weight"), count: h * h)
                (fusedB.pointer + i * h).update(from: try f(p + "attention.self.\(n).bias"), count: h)
            }
            owners += [fusedW, fusedB]
            func linear(_ name: String, _ out: Int, _ inp: Int) throws -> LinearLayer {
                LinearLayer(weight: .f32(try f(p + name + ".weight")), bias: try f(p + name + ".bias"), outFeatures: out, inFeatures: inp)
            }
            layers.append(TransformerLayer(
                qkv: LinearLayer(weight: .f32(fusedW.pointer), bias: fusedB.pointer, outFeatures: 3 * h, inFeatures: h),
                attentionOutput: try linear("attention.output.dense", h, h),
                attentionNormGamma: try f(p + "attention.output.LayerNorm.weight"),
                attentionNormBeta: try f(p + "attention.output.LayerNorm.bias"),
                intermediate: try linear("intermediate.dense", config.intermediateSize, h),
                output: try linear("output.dense", h, config.intermediateSize),
                outputNormGamma: try f(p + "output.LayerNorm.weight"),
                outputNormBeta: try f(p + "output.LayerNorm.bias")))
        }
        let weights = EncoderWeights(
            wordEmbeddings: .f32(try f("embeddings.word_embeddings.weight")),
            positionEmbeddings: try f("embeddings.position_embeddings.weight"),
            tokenTypeEmbedding: try f("embeddings.token_type_embeddings.weight"),
            embeddingNormGamma: try f("embeddings.LayerNorm.weight"),
            embeddingNormBeta: try f("embeddings.LayerNorm.bias"),
            layers: layers, owners: owners)
        try self.init(config: config, modelDirectory: modelDirectory, weights: weights, quantized: false,
                      files: [file.file], options: options)
    }

    /// Loads the int8 model: the quantised weights file `quantizedURL` (default
    /// `<model>/model.int8.cswq`), written from `model.safetensors` on first use, then mapped. Each
    /// linear layer's int8 weights are also packed once into owned memory for the batch kernel
    /// (`Int8BatchProduct.u8s8`; 10.6 MB for all-MiniLM-L6-v2).
    public convenience init(quantizedModelDirectory modelDirectory: URL, quantizedURL: URL? = nil,
                options: EncoderOptions = EncoderOptions()) throws {
        let config = try ModelConfig.load(modelDirectory: modelDirectory)
        let q = try QuantizedWeights.loadOrCreate(modelDirectory: modelDirectory, config: config, url: quantizedURL)
        let h = config.hiddenSize, inter = config.intermediateSize
        var layers: [TransformerLayer] = []
        // The file, and each linear layer's weights packed for the u8 × s8 batch kernel.
        var owners: [AnyObject] = [q]
        for l in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(l)."
            func linear(_ name: String, _ out: Int, _ inp: Int) throws -> LinearLayer {
                guard case .int8(let w, let scales, _) = try q.matrix(p + name + ".weight", rows: out, cols: inp) else {
                    throw EmbeddingError.corruptQuantizedFile("tensor \(p + name).weight: not int8")
                }
                let packed = PackedInt8Matrix(w, rows: out, cols: inp)
                owners.append(packed)
                return LinearLayer(weight: .int8(w, scales: scales, packed: UnsafeRawPointer(packed.pointer)),
                                   bias: try q.floats(p + name + ".bias", count: out), outFeatures: out, inFeatures: inp)
            }
            layers.append(TransformerLayer(
                qkv: try linear("attention.qkv", 3 * h, h),
                attentionOutput: try linear("attention.output.dense", h, h),
                attentionNormGamma: try q.floats(p + "attention.output.LayerNorm.weight", count: h),
                attentionNormBeta: try q.floats(p + "attention.output.LayerNorm.bias", count: h),
                intermediate: try linear("intermediate.dense", inter, h),
                output: try linear("output.dense", h, inter),
                outputNormGamma: try q.floats(p + "output.LayerNorm.weight", count: h),
                outputNormBeta: try q.floats(p + "output.LayerNorm.bias", count: h)))
        }
        let weights = EncoderWeights(
            wordEmbeddings: try q.matrix("embeddings.word_embeddings.weight", rows: config.vocabSize, cols: h),
            positionEmbeddings: try q.floats("embeddings.position_embeddings.weight", count: config.maxPositionEmbeddings * h),
            tokenTypeEmbedding: try q.floats("embeddings.token_type_embeddings.weight", count: config.typeVocabSize * h),
            embeddingNormGamma: try q.floats("embeddings.LayerNorm.weight", count: h),
            embeddingNormBeta: try q.floats("embeddings.LayerNorm.bias", count: h),
            layers: layers, owners: owners)
        try self.init(config: config, modelDirectory: modelDirectory, weights: weights, quantized: true,
                      files: [q.file], options: options)
    }

    private init(config: ModelConfig, modelDirectory: URL, weights: EncoderWeights, quantized: Bool,
                 files: [MappedFile], options: EncoderOptions) throws {
        self.config = config
        self.tokenizer = try BertTokenizer(vocabURL: modelDirectory.appendingPathComponent("vocab.txt"))
        guard tokenizer.vocabularySize == config.vocabSize else {
            throw EmbeddingError.invalidConfig("vocab.txt has \(tokenizer.vocabularySize) tokens, config.json vocab_size is \(config.vocabSize)")
        }
        self.weights = weights
        self.isQuantized = quantized
        self.mappedFiles = files
        self.options = options
        let dequantizes = quantized && options.int8BatchProduct == .sgemm
        func bytes(_ tokens: Int) -> Int {
            Workspace.bytesNeeded(config: config, tokens: tokens, maxLength: tokens, quantized: quantized, dequantizes: dequantizes)
        }
        scratchPool = BufferPool(name: "embedding", capacity: options.scratchPoolSize, bufferBytes: bytes(min(64, config.maxSeqLength)),
                                 maxRetainedBytes: bytes(config.maxSeqLength))
        if let n = options.blasThreads { openblas_set_num_threads(Int32(n)) }
    }

    /// Bytes of the memory-mapped weight files.
    public var bytesMapped: Int { mappedFiles.reduce(0) { $0 + $1.size } }

    /// Bytes of the weight mappings resident in memory (`mincore`).
    public func bytesResident() -> Int { mappedFiles.reduce(0) { $0 + $1.residentBytes() } }

    /// Tokenises `text` as the model does (truncated to `config.maxSeqLength`).
    public func tokenize(_ text: String) -> TokenizedText {
        tokenizer.encode(text, maxLength: config.maxSeqLength)
    }

    /// Embeds `texts`; results are in input order.
    public func embed(_ texts: [String]) -> [EmbeddingResult] {
        embed(tokenized: texts.map(tokenize))
    }

    /// Embeds already tokenised texts; results are in input order. Ids outside the vocabulary
    /// are read as `[UNK]`; sequences longer than `config.maxSeqLength` keep their first
    /// `maxSeqLength - 1` ids and their last one. An empty id list gives a zero vector.
    public func embed(tokenized: [TokenizedText]) -> [EmbeddingResult] {
        let n = tokenized.count
        guard n > 0 else { return [] }
        let seqs: [[Int32]] = tokenized.map { t in
            var ids = t.ids.map { $0 >= 0 && Int($0) < config.vocabSize ? $0 : tokenizer.unkID }
            if ids.count > config.maxSeqLength { ids = Array(ids.prefix(config.maxSeqLength - 1)) + [ids.last!] }
            return ids
        }
        let batches = makeBatches(lengths: seqs.map(\.count))
        let slots = ResultSlots(count: n)
        let vectors = slots.buffer

        let workers = min(options.threads, batches.count)
        let dequantizes = options.int8BatchProduct == .sgemm
        let bytes = Workspace.bytesNeeded(config: config, batches: batches, seqs: seqs, quantized: isQuantized, dequantizes: dequantizes)
        if workers <= 1 {
            scratchPool.withBuffer(bytes: bytes) { arena in
                let ws = Workspace(config: config, batches: batches, seqs: seqs, quantized: isQuantized, dequantizes: dequantizes,
                                   splitThreads: batches.count == 1 ? options.threads : 1, arena: arena)
                for b in batches { run(batch: b, seqs: seqs, ws: ws, into: vectors) }
            }
        } else {
            let next = BatchCounter()
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                scratchPool.withBuffer(bytes: bytes) { arena in
                    let ws = Workspace(config: config, batches: batches, seqs: seqs, quantized: isQuantized,
                                       dequantizes: dequantizes, arena: arena)
                    while let i = next.take(limit: batches.count) {
                        run(batch: batches[i], seqs: seqs, ws: ws, into: slots.buffer)
                    }
                }
            }
        }
        return (0..<n).map { EmbeddingResult(ids: seqs[$0], truncated: tokenized[$0].truncated, embedding: vectors[$0]) }
    }

    /// Groups sequence indices into batches: longest first, at most `maxBatchSequences`
    /// sequences and `maxBatchTokens` tokens each, and at least one batch per worker when there
    /// are enough sequences. No padding: every batch is its sequences' tokens concatenated.
    func makeBatches(lengths: [Int]) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        let perWorker = (lengths.count + options.threads - 1) / options.threads
        let maxSeqs = max(1, min(options.maxBatchSequences, perWorker))
        var batches: [[Int]] = []
        var current: [Int] = []
        var tokens = 0
        for i in order {
            if !current.isEmpty && (current.count >= maxSeqs || tokens + lengths[i] > options.maxBatchTokens) {
                batches.append(current); current = []; tokens = 0
            }
            current.append(i); tokens += lengths[i]
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    private func run(batch: [Int], seqs: [[Int32]], ws: Workspace, into out: UnsafeMutableBufferPointer<[Float]>) {
        let vectors = forward(batch.map { seqs[$0] }, ws: ws)
        for (k, i) in batch.enumerated() { out[i] = vectors[k] }
    }
}

/// Output slots written by the workers, each index by exactly one batch.
private final class ResultSlots: @unchecked Sendable {
    /// One pooled vector per input.
    let buffer: UnsafeMutableBufferPointer<[Float]>
    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: [])
    }
    deinit { buffer.deinitialize(); buffer.deallocate() }
}

/// Hands out batch indices to worker threads.
private final class BatchCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    /// The next index below `limit`, or `nil` when all are taken.
    func take(limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < limit else { return nil }
        next += 1
        return next - 1
    }
}
