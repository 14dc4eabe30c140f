import Foundation
import Testing
@testable import Embedding

/// Deterministic pseudo-random floats in [-scale, scale].
func randomFloats(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var s = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return (Float(s >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
}

@Suite("Fast kernels vs plain-loop reference kernels")
struct KernelTests {
    static let shapes: [(Int, Int, Int)] = [(1, 1, 1), (3, 7, 5), (17, 33, 9), (2, 8, 16), (31, 13, 64), (65, 70, 385)]

    @Test("matmul x·Wᵀ + b", arguments: shapes)
    func matmul(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = randomFloats(m * k, seed: 1), w = randomFloats(n * k, seed: 2), b = randomFloats(n, seed: 3)
        let expected = ReferenceKernels.linear(x, w, b, m: m, n: n, k: k)
        var y = [Float](repeating: 0, count: m * n)
        var yt = [Float](repeating: 0, count: m * n)
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                Kernels.matmulTransB(m: m, n: n, k: k, x: xp.baseAddress!, ldx: k, w: wp.baseAddress!, ldw: k, y: yp.baseAddress!, ldy: n)
                Kernels.addBias(yp.baseAddress!, m: m, n: n, bias: bp.baseAddress!)
            }
            yt.withUnsafeMutableBufferPointer { yp in
                Kernels.smallMatmulTransB(m: m, n: n, k: k, x: xp.baseAddress!, w: wp.baseAddress!, y: yp.baseAddress!, ldy: n)
                Kernels.addBias(yp.baseAddress!, m: m, n: n, bias: bp.baseAddress!)
            }
        } } }
        #expect(TestSupport.maxAbsDiff(y, expected) < 1e-4)
        #expect(TestSupport.maxAbsDiff(yt, expected) < 1e-4)
    }

    @Test("int8 matmul ≈ fp32 matmul; dequantise is exact", arguments: shapes)
    func int8Matmul(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = randomFloats(m * k, seed: 4), w = randomFloats(n * k, seed: 5)
        let expected = ReferenceKernels.linear(x, w, nil, m: m, n: n, k: k)
        var qw = [Int8](repeating: 0, count: n * k), sw = [Float](repeating: 0, count: n)
        var qa = [Int8](repeating: 0, count: m * k), sa = [Float](repeating: 0, count: m)
        var y = [Float](repeating: 0, count: m * n), deq = [Float](repeating: 0, count: n * k)
        w.withUnsafeBufferPointer { QuantizedWeights.quantizeRows($0.baseAddress!, rows: n, cols: k, into: &qw, scales: &sw) }
        x.withUnsafeBufferPointer { Int8Kernels.quantizeRows($0.baseAddress!, m: m, k: k, into: &qa, scales: &sa) }
        Int8Kernels.matmulTransB(m: m, n: n, k: k, qa: qa, sa: sa, qw: qw, sw: sw, y: &y, ldy: n)
        Int8Kernels.dequantize(qw, scales: sw, rows: n, cols: k, into: &deq)
        for r in 0..<n { for c in 0..<k { #expect(deq[r * k + c] == Float(qw[r * k + c]) * sw[r]) } }
        var yw = [Float](repeating: 0, count: m * n)
        Kernels.smallMatmulTransBInt8(m: m, n: n, k: k, x: x, q: qw, scales: sw, y: &yw, ldy: n)
        #expect(TestSupport.maxAbsDiff(yw, ReferenceKernels.linear(x, deq, nil, m: m, n: n, k: k)) < 1e-4)
        // Each product's error is bounded by the quantisation steps.
        let bound = Float(k) * 2 / 127 + 1e-5
        #expect(TestSupport.maxAbsDiff(y, expected) <= bound)
        // The integer dot product is exact.
        var exact: Int32 = 0
        for t in 0..<k { exact += Int32(qa[t]) * Int32(qw[t]) }
        #expect(Int8Kernels.dot(qa, qw, k) == exact)
    }

    @Test("int8-weight batch GEMM: vpmaddwd kernel equals its plain loop; ≈ the fp32 product of the dequantised weights",
          arguments: shapes + [(70, 1536, 384), (9, 384, 1536)])
    func int8WeightsBatchMatmul(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = randomFloats(m * k, seed: 6, scale: 3), w = randomFloats(n * k, seed: 7)
        var qw = [Int8](repeating: 0, count: n * k), sw = [Float](repeating: 0, count: n)
        w.withUnsafeBufferPointer { QuantizedWeights.quantizeRows($0.baseAddress!, rows: n, cols: k, into: &qw, scales: &sw) }
        var deq = [Float](repeating: 0, count: n * k)
        Int8Kernels.dequantize(qw, scales: sw, rows: n, cols: k, into: &deq)
        let expected = ReferenceKernels.linear(x, deq, nil, m: m, n: n, k: k)
        var fast = [Float](repeating: 0, count: m * n), plain = [Float](repeating: 0, count: m * n)
        Kernels.int8WeightsMatmul(m: m, n: n, k: k, x: x, ldx: k, q: qw, scales: sw, y: &fast, ldy: n)
        Kernels.int8WeightsMatmul(m: m, n: n, k: k, x: x, ldx: k, q: qw, scales: sw, y: &plain, ldy: n, reference: true)
        #expect(fast == plain, "same integer sums, same float scaling")
        // Activations keep at least 11 bits (xmax ≥ 2^31 / (k · 127)): each product's relative error ≤ 1/(2·xmax).
        let xmax = Float(min(16383, Int(Int32.max) / (k * 127)))
        let bound = Float(k) * 3 * (w.map(abs).max() ?? 1) / (2 * xmax) + 1e-4
        #expect(TestSupport.maxAbsDiff(fast, expected) <= bound, "max diff \(TestSupport.maxAbsDiff(fast, expected)) over bound \(bound)")
    }

    @Test("layerNorm and bias+residual+layerNorm", arguments: [(1, 1), (3, 7), (17, 33), (4, 384)])
    func layerNorm(shape: (Int, Int)) {
        let (m, n) = shape
        let x = randomFloats(m * n, seed: 6, scale: 3), y = randomFloats(m * n, seed: 7)
        let b = randomFloats(n, seed: 8), g = randomFloats(n, seed: 9), be = randomFloats(n, seed: 10)
        var fast = x
        Kernels.layerNorm(&fast, m: m, n: n, gamma: g, beta: be, eps: 1e-12)
        let expected = ReferenceKernels.layerNorm(x, m: m, n: n, gamma: g, beta: be, eps: 1e-12)
        #expect(TestSupport.maxAbsDiff(fast, expected) < 1e-5)

        var fused = x, scratch = y
        Kernels.biasResidualLayerNorm(&fused, y: &scratch, m: m, n: n, bias: b, gamma: g, beta: be, eps: 1e-5)
        var sum = x
        for i in 0..<(m * n) { sum[i] = x[i] + y[i] + b[i % n] }
        #expect(TestSupport.maxAbsDiff(fused, ReferenceKernels.layerNorm(sum, m: m, n: n, gamma: g, beta: be, eps: 1e-5)) < 1e-5)
    }

    @Test("GELU (vectorised erf) matches exact erf GELU", arguments: [(1, 1), (3, 7), (17, 33)])
    func gelu(shape: (Int, Int)) {
        let (m, n) = shape
        let x = randomFloats(m * n, seed: 11, scale: 6), b = randomFloats(n, seed: 12)
        var fast = x
        Kernels.biasGELU(&fast, m: m, n: n, bias: b)
        var biased = x
        for i in 0..<(m * n) { biased[i] += b[i % n] }
        #expect(TestSupport.maxAbsDiff(fast, ReferenceKernels.gelu(biased)) < 1e-6)
    }

    @Test("erf and exp accuracy over their ranges")
    func erfExp() {
        var maxErf = 0.0, maxExpRel = 0.0
        var x: Float = -6
        while x <= 6 {
            let v = Kernels.V(repeating: x)
            maxErf = max(maxErf, abs(Double(Kernels.erf(v)[0]) - Foundation.erf(Double(x))))
            x += 0.00037
        }
        x = -80
        while x <= 80 {
            let e = Double(Kernels.exp(Kernels.V(repeating: x))[0])
            maxExpRel = max(maxExpRel, abs(e / Foundation.exp(Double(x)) - 1))
            x += 0.0031
        }
        // Rational approximation (Eigen/TensorFlow coefficients) in float: ~7 ulp near 1.
        #expect(maxErf < 5e-7, "erf max abs error \(maxErf)")
        #expect(maxExpRel < 5e-7, "exp max rel error \(maxExpRel)")
    }

    @Test("softmax rows", arguments: [(1, 1), (3, 7), (17, 33), (5, 8)])
    func softmax(shape: (Int, Int)) {
        let (m, n) = shape
        let x = randomFloats(m * n, seed: 13, scale: 20)
        var fast = x
        Kernels.softmaxRows(&fast, m: m, n: n, ld: n)
        #expect(TestSupport.maxAbsDiff(fast, ReferenceKernels.softmax(x, m: m, n: n)) < 1e-6)
    }

    @Test("attention of one sequence", arguments: [(1, 1, 1), (3, 2, 4), (17, 3, 8), (9, 12, 32)])
    func attention(shape: (Int, Int, Int)) {
        let (len, heads, headSize) = shape
        let hidden = heads * headSize
        let qkv = randomFloats(len * 3 * hidden, seed: 14, scale: 2)
        var ctx = [Float](repeating: 0, count: len * hidden)
        var scores = [Float](repeating: 0, count: len * len)
        Kernels.attention(qkv: qkv, ldqkv: 3 * hidden, len: len, heads: heads, headSize: headSize,
                          ctx: &ctx, ldctx: hidden, scores: &scores)
        #expect(TestSupport.maxAbsDiff(ctx, ReferenceKernels.attention(qkv, len: len, heads: heads, headSize: headSize)) < 1e-5)
    }
}
