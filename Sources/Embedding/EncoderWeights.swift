/// A linear layer's weight matrix w: [out, in], fp32 or int8 with one float scale per row
/// (per output channel: w[r, c] ≈ q[r, c] · scale[r]).
enum MatrixWeights {
    /// fp32 [rows, cols].
    case f32(UnsafePointer<Float>)
    /// int8 [rows, cols] and scales [rows]; `packed` is the same matrix in the layout of the u8 × s8 batch
    /// kernel (`PackedInt8Matrix`), or nil where no batch product needs it (the word-embedding table).
    case int8(UnsafePointer<Int8>, scales: UnsafePointer<Float>, packed: UnsafeRawPointer?)
}

/// y = x · wᵀ + bias.
struct LinearLayer {
    /// w: [outFeatures, inFeatures].
    let weight: MatrixWeights
    /// bias: [outFeatures].
    let bias: UnsafePointer<Float>
    /// Output width (rows of w).
    let outFeatures: Int
    /// Input width (columns of w).
    let inFeatures: Int
}

/// One transformer layer's parameters.
struct TransformerLayer {
    /// Fused Q | K | V projection, w: [3·hidden, hidden], bias: [3·hidden].
    let qkv: LinearLayer
    /// Attention output projection, w: [hidden, hidden].
    let attentionOutput: LinearLayer
    /// LayerNorm after attention, gamma/beta: [hidden].
    let attentionNormGamma: UnsafePointer<Float>
    let attentionNormBeta: UnsafePointer<Float>
    /// FFN up-projection, w: [intermediate, hidden].
    let intermediate: LinearLayer
    /// FFN down-projection, w: [hidden, intermediate].
    let output: LinearLayer
    /// LayerNorm after the FFN, gamma/beta: [hidden].
    let outputNormGamma: UnsafePointer<Float>
    let outputNormBeta: UnsafePointer<Float>
}

/// All parameters the forward pass reads, as pointers into memory that `owners` keep alive
/// (memory maps and owned buffers). Immutable.
struct EncoderWeights: @unchecked Sendable {
    /// Word embeddings: [vocab, hidden] (fp32 or per-row int8).
    let wordEmbeddings: MatrixWeights
    /// Position embeddings: [maxPositions, hidden].
    let positionEmbeddings: UnsafePointer<Float>
    /// Token-type 0 embedding row: [hidden].
    let tokenTypeEmbedding: UnsafePointer<Float>
    /// Embedding LayerNorm gamma/beta: [hidden].
    let embeddingNormGamma: UnsafePointer<Float>
    let embeddingNormBeta: UnsafePointer<Float>
    /// The layers, in order.
    let layers: [TransformerLayer]
    /// Objects that own the memory the pointers point into.
    let owners: [AnyObject]
}

/// An owned, immutable-after-fill float buffer (e.g. the fused QKV weights).
final class FloatBuffer: @unchecked Sendable {
    /// The storage; written only while building, then read-only.
    let pointer: UnsafeMutablePointer<Float>
    /// Number of floats.
    let count: Int
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
}

/// An int8 weight matrix q: [rows, cols] repacked once for the AVX2 u8 × s8 batch kernel (`cs_pack_i8`):
/// panels of 16 rows of q (output columns of the product) × 4 consecutive inputs per 32-bit lane, then the
/// per-row sums of q that remove the activations' zero point. Owned memory, read-only after `init`.
final class PackedInt8Matrix: @unchecked Sendable {
    /// The packed bytes (64-byte aligned).
    let pointer: UnsafeMutableRawPointer
    /// Their count.
    let byteCount: Int

    /// Packs q: [rows, cols].
    init(_ q: UnsafePointer<Int8>, rows: Int, cols: Int) {
        byteCount = max(1, Kernels.packedInt8Size(rows: rows, cols: cols))
        pointer = .allocate(byteCount: byteCount, alignment: 64)
        Kernels.packInt8(q, rows: rows, cols: cols, into: pointer)
    }

    deinit { pointer.deallocate() }
}
