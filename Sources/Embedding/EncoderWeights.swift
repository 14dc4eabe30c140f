/// A linear layer's weight matrix w: [out, in], fp32 or int8 with one float scale per row
/// (per output channel: w[r, c] ≈ q[r, c] · scale[r]).
enum MatrixWeights {
    /// fp32 [rows, cols].
    case f32(UnsafePointer<Float>)
    /// int8 [rows, cols] and scales [rows].
    case int8(UnsafePointer<Int8>, scales: UnsafePointer<Float>)
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
