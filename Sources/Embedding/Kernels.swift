import CBLAS
import CKernels

/// Fast kernels of the forward pass: OpenBLAS `sgemm` for matrix products and `SIMD8<Float>`
/// loops for the element-wise work. Every kernel has a plain-loop twin in `ReferenceKernels`,
/// and the tests compare them on odd shapes. Matrices are row-major.
enum Kernels {
    typealias V = SIMD8<Float>

    // MARK: - Matrix products

    /// y: [m, n] = alpha · x: [m, k] · wᵀ + beta · y, where w: [n, k] (PyTorch `Linear` layout,
    /// used in place — no transposed copy). `ldx`, `ldw`, `ldy` are row strides in elements.
    static func matmulTransB(m: Int, n: Int, k: Int,
                             x: UnsafePointer<Float>, ldx: Int,
                             w: UnsafePointer<Float>, ldw: Int,
                             y: UnsafeMutablePointer<Float>, ldy: Int,
                             alpha: Float = 1, beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, x, Int32(ldx), w, Int32(ldw), beta, y, Int32(ldy))
    }

    /// Largest m for which the no-packing small-m kernel is used instead of `sgemm` (OpenBLAS
    /// packs the whole weight matrix on every call, which dominates for a ~10-token query).
    static let smallBatchRows = 64

    /// y: [m, n] (row stride ldy) = x: [m, k] · wᵀ (w: [n, k]) without packing: the AVX2+FMA
    /// C kernel (`CKernels`, 4×2 register blocks), chosen at run time; portable C otherwise.
    static func smallMatmulTransB(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                  y: UnsafeMutablePointer<Float>, ldy: Int) {
        cs_small_matmul_f32(Int32(m), Int32(n), Int32(k), x, w, y, Int32(ldy))
    }

    /// y: [m, n] = x: [m, k] · (q: [n, k] int8 · scales: [n])ᵀ — int8 weights widened to fp32 in
    /// registers, fp32 activations.
    static func smallMatmulTransBInt8(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, q: UnsafePointer<Int8>,
                                      scales: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int) {
        cs_small_matmul_i8(Int32(m), Int32(n), Int32(k), x, q, scales, y, Int32(ldy))
    }

    /// y: [m, n] = x: [m, k] (row stride ldx) · (q: [n, k] int8 · scales: [n])ᵀ with integer arithmetic:
    /// each x row is quantised to int16 with its own scale, sums are exact in int32 (AVX2 `vpmaddwd`);
    /// `reference` runs the plain loop over the same quantised rows.
    static func int8WeightsMatmul(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, q: UnsafePointer<Int8>,
                                  scales: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, reference: Bool = false) {
        let status = cs_gemm_i8_weights(Int32(m), Int32(n), Int32(k), x, Int32(ldx), q, scales, y, Int32(ldy), reference ? 1 : 0)
        precondition(status == 0, "out of memory for a \(m)×\(k) int16 activation buffer")
    }

    // MARK: - u8 × s8 products over packed int8 weights

    /// Bytes of the packed form of q: [rows, cols] for `packedInt8Matmul`.
    static func packedInt8Size(rows: Int, cols: Int) -> Int {
        cs_pack_i8_size(Int32(rows), Int32(cols))
    }

    /// Packs q: [rows, cols] int8 (rows = output columns of the product) into `packed`
    /// (`packedInt8Size` bytes): panels of 16 rows × 4 inputs per 32-bit lane, then the row sums of q.
    static func packInt8(_ q: UnsafePointer<Int8>, rows: Int, cols: Int, into packed: UnsafeMutableRawPointer) {
        cs_pack_i8(Int32(rows), Int32(cols), q, packed)
    }

    /// Most outlier channels `packedInt8Matmul` takes out of the quantised rows.
    static let maxOutlierChannels = Int(CS_MAX_OUTLIERS)

    /// y: [m, n] (row stride ldy) = x: [m, k] (row stride ldx) · (q: [n, k] int8 · scales: [n])ᵀ. The `outliers`
    /// input channels with the largest |x| (over a sample of rows) are multiplied in fp32; the rest of each x row is
    /// quantised to 7-bit unsigned integers with its own scale and zero point (`quantizeRowsU7`) and multiplied
    /// with exact int32 sums: the AVX2 `vpmaddubsw` kernel over `packed` (`packInt8` of q), or, with `reference`
    /// (or without AVX2), the plain loop over q — both give bitwise equal results.
    static func packedInt8Matmul(m: Int, n: Int, k: Int, x: UnsafePointer<Float>, ldx: Int, packed: UnsafeRawPointer,
                                 q: UnsafePointer<Int8>, scales: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                 ldy: Int, outliers: Int, reference: Bool = false) {
        let status = cs_gemm_u8s8(Int32(m), Int32(n), Int32(k), x, Int32(ldx), packed, q, scales, y, Int32(ldy),
                                  Int32(max(0, outliers)), reference ? 1 : 0)
        precondition(status == 0, "out of memory for the u8 activation block of a \(m)×\(k) product")
    }

    /// xq: [m, ldq] (ldq ≥ k rounded up to 4), scales: [m], zeroPoints: [m] — each row of x: [m, k] (row
    /// stride ldx), times `mask` (per column; nil: all ones), as 7-bit unsigned integers,
    /// x ≈ scale · (xq − zeroPoint), over [min(row, 0), max(row, 0)].
    static func quantizeRowsU7(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int, mask: UnsafePointer<Float>? = nil,
                               into xq: UnsafeMutablePointer<UInt8>, ldq: Int, scales: UnsafeMutablePointer<Float>,
                               zeroPoints: UnsafeMutablePointer<Int32>) {
        cs_quantize_rows_u7(Int32(m), Int32(k), x, Int32(ldx), mask, xq, Int32(ldq), scales, zeroPoints)
    }

    /// The min(count, k) input channels of x: [m, k] with the largest |x| over a sample of rows, largest first.
    static func outlierChannels(_ x: UnsafePointer<Float>, m: Int, k: Int, ldx: Int, count: Int) -> [Int] {
        var channels = [Int32](repeating: -1, count: max(0, min(count, maxOutlierChannels)))
        let found = cs_select_outliers(Int32(m), Int32(k), x, Int32(ldx), Int32(channels.count), &channels)
        precondition(found >= 0, "out of memory")
        return channels.prefix(Int(found)).map(Int.init)
    }

    /// c: [m, n] (row stride ldc) = Σ_t xq[i, t] · q[j, t], the raw int32 sums of the u8 × s8 product (xq values
    /// in 0…127, row stride ldq ≥ k rounded up to 4): the AVX2 kernel over `packed`, or the plain loop over q
    /// with `reference`. Returns false (c untouched) if the AVX2 kernel was asked for and is not available.
    @discardableResult
    static func u8s8Sums(m: Int, n: Int, k: Int, xq: UnsafePointer<UInt8>, ldq: Int, packed: UnsafeRawPointer,
                         q: UnsafePointer<Int8>, c: UnsafeMutablePointer<Int32>, ldc: Int, reference: Bool) -> Bool {
        if reference {
            cs_gemm_u8s8_i32_reference(Int32(m), Int32(n), Int32(k), xq, Int32(ldq), q, c, Int32(ldc))
            return true
        }
        return cs_gemm_u8s8_i32(Int32(m), Int32(n), Int32(k), xq, Int32(ldq), packed, c, Int32(ldc)) == 1
    }

    /// y: [m, n] = x: [m, k] · w: [k, n] (no transposes).
    static func matmul(m: Int, n: Int, k: Int,
                       x: UnsafePointer<Float>, ldx: Int,
                       w: UnsafePointer<Float>, ldw: Int,
                       y: UnsafeMutablePointer<Float>, ldy: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, x, Int32(ldx), w, Int32(ldw), 0, y, Int32(ldy))
    }

    // MARK: - SIMD helpers

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Lane-wise minimum and maximum through vector selects (the stdlib's generic
    /// `pointwiseMin`/`pointwiseMax`/`clamped` were not inlined and ran lane by lane).
    @inline(__always) static func vmin(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .< a) }
    @inline(__always) static func vmax(_ a: V, _ b: V) -> V { a.replacing(with: b, where: b .> a) }

    /// Vectorised expf (Cephes polynomial, Cody–Waite range reduction; ≈1 ulp on [-87, 88]).
    /// Rounds with the 1.5·2²³ trick so that no SSE4.1 `roundps` is needed.
    @inline(__always) static func exp(_ x0: V) -> V {
        let x = vmin(vmax(x0, V(repeating: -87.3)), V(repeating: 88.3))
        let magic = V(repeating: 12582912.0)  // 1.5 * 2^23
        let t = x * V(repeating: 1.44269504088896341) + magic
        let fx = t - magic                      // round(x / ln 2)
        let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        var r = x - fx * V(repeating: 0.693359375)
        r = r - fx * V(repeating: -2.12194440e-4)
        var p = V(repeating: 1.9875691500e-4)
        p = p * r + V(repeating: 1.3981999507e-3)
        p = p * r + V(repeating: 8.3334519073e-3)
        p = p * r + V(repeating: 4.1665795894e-2)
        p = p * r + V(repeating: 1.6666665459e-1)
        p = p * r + V(repeating: 5.0000001201e-1)
        let e = p * r * r + r + V(repeating: 1)
        let scale = unsafeBitCast((n &+ 127) &<< 23, to: V.self)
        return e * scale
    }

    /// Vectorised erf: odd/even rational approximation on [-4, 4] (erf is ±1 in float beyond);
    /// max abs error ≈ 1e-7 against double-precision erf (see the kernel tests).
    @inline(__always) static func erf(_ x0: V) -> V {
        let x = vmin(vmax(x0, V(repeating: -4)), V(repeating: 4))
        let x2 = x * x
        var p = x2 * V(repeating: -2.72614225801306e-10) + V(repeating: 2.77068142495902e-08)
        p = x2 * p + V(repeating: -2.10102402082508e-06)
        p = x2 * p + V(repeating: -5.69250639462346e-05)
        p = x2 * p + V(repeating: -7.34990630326855e-04)
        p = x2 * p + V(repeating: -2.95459980854025e-03)
        p = x2 * p + V(repeating: -1.60960333262415e-02)
        p = x * p
        var q = x2 * V(repeating: -1.45660718464996e-05) + V(repeating: -2.13374055278905e-04)
        q = x2 * q + V(repeating: -1.68282697438203e-03)
        q = x2 * q + V(repeating: -7.37332916720468e-03)
        q = x2 * q + V(repeating: -1.42647390514189e-02)
        return p / q
    }

    /// Exact (erf) GELU of a vector: 0.5·x·(1 + erf(x/√2)).
    @inline(__always) static func gelu(_ x: V) -> V {
        V(repeating: 0.5) * x * (V(repeating: 1) + erf(x * V(repeating: 0.70710678118654752)))
    }

    // MARK: - Element-wise kernels

    /// x: [m, n] += bias: [n] (row broadcast).
    static func addBias(_ x: UnsafeMutablePointer<Float>, m: Int, n: Int, bias: UnsafePointer<Float>) {
        for r in 0..<m {
            let row = x + r * n
            var j = 0
            while j + 8 <= n { store(load(row + j) + load(bias + j), row + j); j += 8 }
            while j < n { row[j] += bias[j]; j += 1 }
        }
    }

    /// x: [m, n] = GELU(x + bias: [n]), exact erf GELU, in place.
    static func biasGELU(_ x: UnsafeMutablePointer<Float>, m: Int, n: Int, bias: UnsafePointer<Float>) {
        for r in 0..<m {
            let row = x + r * n
            var j = 0
            while j + 8 <= n { store(gelu(load(row + j) + load(bias + j)), row + j); j += 8 }
            if j < n {
                // Tail: pad into one vector.
                var v = V(repeating: 0)
                for t in 0..<(n - j) { v[t] = row[j + t] + bias[j + t] }
                let g = gelu(v)
                for t in 0..<(n - j) { row[j + t] = g[t] }
            }
        }
    }

    /// x: [m, n] = LayerNorm(y: [m, n] + bias: [n] + x) · gamma + beta, row by row
    /// (biased variance, eps inside the square root). `y` is used as scratch.
    static func biasResidualLayerNorm(_ x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                                      m: Int, n: Int, bias: UnsafePointer<Float>,
                                      gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        for r in 0..<m {
            let xr = x + r * n, yr = y + r * n
            var j = 0
            while j + 8 <= n { store(load(yr + j) + load(bias + j) + load(xr + j), yr + j); j += 8 }
            while j < n { yr[j] = yr[j] + bias[j] + xr[j]; j += 1 }
            normalizeRow(yr, into: xr, n: n, gamma: gamma, beta: beta, eps: eps)
        }
    }

    /// x: [m, n] = LayerNorm(x) · gamma + beta, in place.
    static func layerNorm(_ x: UnsafeMutablePointer<Float>, m: Int, n: Int,
                          gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        for r in 0..<m { normalizeRow(x + r * n, into: x + r * n, n: n, gamma: gamma, beta: beta, eps: eps) }
    }

    /// out: [n] = (src - mean) / sqrt(var + eps) · gamma + beta (two-pass mean/variance).
    @inline(__always)
    static func normalizeRow(_ src: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, n: Int,
                             gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float) {
        var acc = V(repeating: 0)
        var j = 0
        while j + 8 <= n { acc += load(src + j); j += 8 }
        var sum = acc.sum()
        while j < n { sum += src[j]; j += 1 }
        let mean = sum / Float(n)
        let mv = V(repeating: mean)
        acc = V(repeating: 0)
        j = 0
        while j + 8 <= n { let d = load(src + j) - mv; acc += d * d; j += 8 }
        var ss = acc.sum()
        while j < n { let d = src[j] - mean; ss += d * d; j += 1 }
        let inv = 1 / (ss / Float(n) + eps).squareRoot()
        let iv = V(repeating: inv)
        j = 0
        while j + 8 <= n { store((load(src + j) - mv) * iv * load(gamma + j) + load(beta + j), out + j); j += 8 }
        while j < n { out[j] = (src[j] - mean) * inv * gamma[j] + beta[j]; j += 1 }
    }

    /// s: [m, n] (row stride `ld`) = softmax of each row, in place.
    static func softmaxRows(_ s: UnsafeMutablePointer<Float>, m: Int, n: Int, ld: Int) {
        for r in 0..<m {
            let row = s + r * ld
            var mx = -Float.infinity
            var j = 0
            var mv = V(repeating: -.infinity)
            while j + 8 <= n { mv = vmax(mv, load(row + j)); j += 8 }
            mx = mv.max()
            while j < n { mx = max(mx, row[j]); j += 1 }
            let mxv = V(repeating: mx)
            var acc = V(repeating: 0)
            j = 0
            while j + 8 <= n { let e = exp(load(row + j) - mxv); store(e, row + j); acc += e; j += 8 }
            var sum = acc.sum()
            if j < n {
                var v = V(repeating: -.infinity)
                for t in 0..<(n - j) { v[t] = row[j + t] - mx }
                let e = exp(v)
                for t in 0..<(n - j) { row[j + t] = e[t]; sum += e[t] }
            }
            let inv = V(repeating: 1 / sum)
            j = 0
            while j + 8 <= n { store(load(row + j) * inv, row + j); j += 8 }
            while j < n { row[j] *= inv[0]; j += 1 }
        }
    }

    /// Self-attention of one sequence, all heads.
    /// qkv: [len, 3·hidden] (row stride `ldqkv`; Q | K | V, each `heads × headSize`),
    /// ctx: [len, hidden] (row stride `ldctx`), scores: scratch of at least len² floats.
    static func attention(qkv: UnsafePointer<Float>, ldqkv: Int, len: Int, heads: Int, headSize: Int,
                          ctx: UnsafeMutablePointer<Float>, ldctx: Int, scores: UnsafeMutablePointer<Float>) {
        let hidden = heads * headSize
        let scale = 1 / Float(headSize).squareRoot()
        for h in 0..<heads {
            let q = qkv + h * headSize                 // q: [len, headSize], stride ldqkv
            let k = qkv + hidden + h * headSize        // k: [len, headSize]
            let v = qkv + 2 * hidden + h * headSize    // v: [len, headSize]
            // scores: [len, len] = scale · q · kᵀ
            matmulTransB(m: len, n: len, k: headSize, x: q, ldx: ldqkv, w: k, ldw: ldqkv,
                         y: scores, ldy: len, alpha: scale)
            softmaxRows(scores, m: len, n: len, ld: len)
            // ctx[:, h] : [len, headSize] = scores · v
            matmul(m: len, n: headSize, k: len, x: scores, ldx: len, w: v, ldw: ldqkv,
                   y: ctx + h * headSize, ldy: ldctx)
        }
    }
}
