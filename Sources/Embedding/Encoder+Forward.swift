import Foundation
/// Per-call scratch of one worker, sized for the largest batch it may run.
final class Workspace {
    /// x: [tokens, hidden] — the hidden states.
    let x: UnsafeMutablePointer<Float>
    /// qkv: [tokens, 3·hidden].
    let qkv: UnsafeMutablePointer<Float>
    /// ctx: [tokens, hidden] — attention output before its projection.
    let ctx: UnsafeMutablePointer<Float>
    /// tmp: [tokens, hidden] — projection outputs before residual + LayerNorm.
    let tmp: UnsafeMutablePointer<Float>
    /// ffn: [tokens, intermediate].
    let ffn: UnsafeMutablePointer<Float>
    /// scores: [maxLen, maxLen] — one head's attention matrix.
    let scores: UnsafeMutablePointer<Float>
    /// int8 mode: w: [intermediate, hidden]-sized dequantisation target.
    let dequantized: UnsafeMutablePointer<Float>?
    /// int8 mode: qa: [tokens, intermediate] quantised activations and their row scales [tokens].
    let quantizedActivations: UnsafeMutablePointer<Int8>?
    let activationScales: UnsafeMutablePointer<Float>?
    /// Threads over which small fp32 products are split by output columns (1 = no split); used
    /// when a call runs a single small batch, so the other cores would otherwise idle.
    let splitThreads: Int
    /// The one block every buffer above is carved from: borrowed from the encoder's scratch pool
    /// (`owned == false`) or allocated for this call.
    private let arena: UnsafeMutableRawBufferPointer
    private let owned: Bool

    /// Bytes of scratch for the largest batch among `batches` (each buffer 64-byte aligned).
    static func bytesNeeded(config: ModelConfig, batches: [[Int]], seqs: [[Int32]], quantized: Bool, dequantizes: Bool) -> Int {
        let tokens = max(1, batches.map { $0.reduce(0) { $0 + seqs[$1].count } }.max() ?? 1)
        let maxLen = max(1, seqs.map(\.count).max() ?? 1)
        return bytesNeeded(config: config, tokens: tokens, maxLength: maxLen, quantized: quantized, dequantizes: dequantizes)
    }

    /// Bytes of scratch for a batch of `tokens` tokens whose longest sequence has `maxLength`.
    static func bytesNeeded(config: ModelConfig, tokens: Int, maxLength: Int, quantized: Bool, dequantizes: Bool) -> Int {
        layout(config: config, tokens: tokens, maxLength: maxLength, quantized: quantized, dequantizes: dequantizes).total
    }

    /// Byte offsets of x, qkv, ctx, tmp, ffn, scores, dequantized, quantizedActivations, activationScales (-1: absent).
    private static func layout(config: ModelConfig, tokens: Int, maxLength: Int, quantized: Bool, dequantizes: Bool) -> (offsets: [Int], total: Int) {
        let h = config.hiddenSize, inter = config.intermediateSize, f = MemoryLayout<Float>.stride
        var sizes = [tokens * h * f, tokens * 3 * h * f, tokens * h * f, tokens * h * f, tokens * inter * f, maxLength * maxLength * f]
        sizes += quantized ? [dequantizes ? max(inter, 3 * h) * h * f : -1, tokens * max(inter, h), tokens * f] : [-1, -1, -1]
        var offsets: [Int] = []
        var total = 0
        for size in sizes {
            guard size >= 0 else { offsets.append(-1); continue }
            offsets.append(total)
            total += (size + 63) / 64 * 64
        }
        return (offsets, total)
    }

    /// - Parameters:
    ///   - dequantizes: int8 batches go through a dequantised fp32 copy of each weight matrix
    ///     (`EncoderOptions.int8BatchProduct == .sgemm`), so the scratch for it is needed.
    ///   - arena: at least `bytesNeeded(...)` bytes, 64-byte aligned, that outlive the workspace; nil allocates.
    init(config: ModelConfig, batches: [[Int]], seqs: [[Int32]], quantized: Bool, dequantizes: Bool, splitThreads: Int = 1,
         arena given: UnsafeMutableRawBufferPointer? = nil) {
        self.splitThreads = splitThreads
        let tokens = max(1, batches.map { $0.reduce(0) { $0 + seqs[$1].count } }.max() ?? 1)
        let maxLen = max(1, seqs.map(\.count).max() ?? 1)
        let (offsets, total) = Self.layout(config: config, tokens: tokens, maxLength: maxLen, quantized: quantized, dequantizes: dequantizes)
        if let given, given.count >= total {
            arena = given
            owned = false
        } else {
            arena = .allocate(byteCount: max(total, 64), alignment: 64)
            owned = true
        }
        let base = arena.baseAddress!
        func floats(_ i: Int) -> UnsafeMutablePointer<Float> { (base + offsets[i]).assumingMemoryBound(to: Float.self) }
        x = floats(0); qkv = floats(1); ctx = floats(2); tmp = floats(3); ffn = floats(4); scores = floats(5)
        dequantized = offsets[6] >= 0 ? floats(6) : nil
        quantizedActivations = offsets[7] >= 0 ? (base + offsets[7]).assumingMemoryBound(to: Int8.self) : nil
        activationScales = offsets[8] >= 0 ? floats(8) : nil
    }

    deinit { if owned { arena.deallocate() } }
}

/// An int8 pointer handed to worker threads that only read it.
struct SendableInt8Pointer: @unchecked Sendable {
    let pointer: UnsafePointer<Int8>
    init(_ pointer: UnsafePointer<Int8>) { self.pointer = pointer }
}

/// A pointer handed to worker threads that write disjoint parts of it.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}

extension Encoder {
    /// Runs the model on one batch of unpadded sequences (token ids) and returns one pooled
    /// vector per sequence. The batch's tokens are concatenated into x: [tokens, hidden], so
    /// every linear layer is one matrix product with M = all tokens and no padding.
    func forward(_ seqs: [[Int32]], ws: Workspace) -> [[Float]] {
        let h = config.hiddenSize, inter = config.intermediateSize
        let eps = config.layerNormEps
        let tokens = seqs.reduce(0) { $0 + $1.count }
        guard tokens > 0 else { return seqs.map { _ in [Float](repeating: 0, count: h) } }

        // x: [tokens, hidden] = word[id] + position[p] + tokenType[0], then LayerNorm.
        var row = 0
        for ids in seqs {
            for (p, id) in ids.enumerated() {
                let dst = ws.x + (row + p) * h
                let pos = weights.positionEmbeddings + p * h
                switch weights.wordEmbeddings {
                case .f32(let w):
                    let src = w + Int(id) * h
                    for j in 0..<h { dst[j] = src[j] + pos[j] + weights.tokenTypeEmbedding[j] }
                case .int8(let q, let scales, _):
                    let src = q + Int(id) * h, s = scales[Int(id)]
                    for j in 0..<h { dst[j] = Float(src[j]) * s + pos[j] + weights.tokenTypeEmbedding[j] }
                }
            }
            row += ids.count
        }
        Kernels.layerNorm(ws.x, m: tokens, n: h, gamma: weights.embeddingNormGamma, beta: weights.embeddingNormBeta, eps: eps)

        for layer in weights.layers {
            // qkv: [tokens, 3h] = x · Wqkvᵀ + b
            linear(layer.qkv, x: ws.x, m: tokens, y: ws.qkv, ws: ws)
            Kernels.addBias(ws.qkv, m: tokens, n: 3 * h, bias: layer.qkv.bias)
            // ctx: [tokens, h] = per-sequence multi-head attention
            attention(seqs: seqs, ws: ws)
            // x: [tokens, h] = LayerNorm(ctx · Woᵀ + b + x)
            linear(layer.attentionOutput, x: ws.ctx, m: tokens, y: ws.tmp, ws: ws)
            Kernels.biasResidualLayerNorm(ws.x, y: ws.tmp, m: tokens, n: h, bias: layer.attentionOutput.bias,
                                          gamma: layer.attentionNormGamma, beta: layer.attentionNormBeta, eps: eps)
            // ffn: [tokens, inter] = GELU(x · W1ᵀ + b1)
            linear(layer.intermediate, x: ws.x, m: tokens, y: ws.ffn, ws: ws)
            Kernels.biasGELU(ws.ffn, m: tokens, n: inter, bias: layer.intermediate.bias)
            // x: [tokens, h] = LayerNorm(ffn · W2ᵀ + b2 + x)
            linear(layer.output, x: ws.ffn, m: tokens, y: ws.tmp, ws: ws)
            Kernels.biasResidualLayerNorm(ws.x, y: ws.tmp, m: tokens, n: h, bias: layer.output.bias,
                                          gamma: layer.outputNormGamma, beta: layer.outputNormBeta, eps: eps)
        }

        // Mean pooling over each sequence's tokens (all have mask 1), then L2 normalisation.
        var out: [[Float]] = []
        out.reserveCapacity(seqs.count)
        row = 0
        for ids in seqs {
            var v = [Double](repeating: 0, count: h)
            for t in 0..<ids.count {
                let src = ws.x + (row + t) * h
                for j in 0..<h { v[j] += Double(src[j]) }
            }
            row += ids.count
            let inv = ids.isEmpty ? 0 : 1 / Double(ids.count)
            var mean = v.map { $0 * inv }
            if config.normalize {
                let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let scale = 1 / max(norm, 1e-12)  // as torch.nn.functional.normalize
                mean = mean.map { $0 * scale }
            }
            out.append(mean.map { Float($0) })
        }
        return out
    }

    /// y: [m, out] = x: [m, in] · Wᵀ (bias not added).
    /// - Small m (≤ `Kernels.smallBatchRows`, or ≤ `int8DirectMaxTokens` for int8): the
    ///   no-packing AVX2 kernel on the weights in place (int8 weights widened to fp32 in
    ///   registers, row scale applied at the end), split over idle cores by output columns.
    /// - Larger m, fp32: one `sgemm` on the weights in place. int8: `EncoderOptions.int8BatchProduct` —
    ///   by default the AVX2 u8 × s8 kernel over the weights packed at load (7-bit activations per row, exact
    ///   int32 sums, the largest `int8OutlierChannels` input channels in fp32); or int16 activations
    ///   (`vpmaddwd`); or W dequantised into fp32 scratch, then `sgemm`.
    func linear(_ layer: LinearLayer, x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, ws: Workspace) {
        let n = layer.outFeatures, k = layer.inFeatures
        switch layer.weight {
        case .f32(let w):
            if m <= Kernels.smallBatchRows {
                let wp = SendablePointer(UnsafeMutablePointer(mutating: w))
                splitColumns(n: n, parts: ws.splitThreads, x: x, y: y) { n0, n1, xp, yp in
                    Kernels.smallMatmulTransB(m: m, n: n1 - n0, k: k, x: xp, w: wp.pointer + n0 * k, y: yp + n0, ldy: n)
                }
            } else {
                Kernels.matmulTransB(m: m, n: n, k: k, x: x, ldx: k, w: w, ldw: k, y: y, ldy: n)
            }
        case .int8(let q, let scales, let packed):
            if m <= options.int8DirectMaxTokens {
                let qp = SendableInt8Pointer(q), sp = SendablePointer(UnsafeMutablePointer(mutating: scales))
                splitColumns(n: n, parts: ws.splitThreads, x: x, y: y) { n0, n1, xp, yp in
                    Kernels.smallMatmulTransBInt8(m: m, n: n1 - n0, k: k, x: xp, q: qp.pointer + n0 * k,
                                                  scales: sp.pointer + n0, y: yp + n0, ldy: n)
                }
            } else if options.int8BatchProduct == .u8s8, let packed {
                Kernels.packedInt8Matmul(m: m, n: n, k: k, x: x, ldx: k, packed: packed, q: q, scales: scales, y: y, ldy: n,
                                         outliers: options.int8OutlierChannels)
            } else if options.int8BatchProduct != .sgemm {
                Kernels.int8WeightsMatmul(m: m, n: n, k: k, x: x, ldx: k, q: q, scales: scales, y: y, ldy: n)
            } else {
                let w = ws.dequantized!
                Int8Kernels.dequantize(q, scales: scales, rows: n, cols: k, into: w)
                Kernels.matmulTransB(m: m, n: n, k: k, x: x, ldx: k, w: w, ldw: k, y: y, ldy: n)
            }
        }
    }

    /// Runs `body(n0, n1, x, y)` over `parts` column ranges [n0, n1) of an n-column output,
    /// in parallel when `parts > 1` (ranges are multiples of 16 columns).
    private func splitColumns(n: Int, parts: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                              _ body: @escaping @Sendable (Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let xp = SendablePointer(UnsafeMutablePointer(mutating: x)), yp = SendablePointer(y)
        guard parts > 1 else { body(0, n, xp.pointer, yp.pointer); return }
        let chunk = ((n + parts - 1) / parts + 15) / 16 * 16
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let n0 = p * chunk, n1 = min(n, n0 + chunk)
            if n0 < n1 { body(n0, n1, xp.pointer, yp.pointer) }
        }
    }
}
