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

    static let u8s8Shapes: [(Int, Int, Int)] = shapes + [(7, 13, 37), (4, 17, 3), (5, 16, 4), (97, 31, 130), (70, 1536, 384), (9, 384, 1536)]

    @Test("u8 × s8 GEMM: AVX2 int32 sums equal the plain loop exactly, extremes included", arguments: u8s8Shapes)
    func u8s8Sums(shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        let ldq = (k + 3) / 4 * 4 + 4  // padded rows, longer than needed
        var state: UInt64 = 0x9e3779b97f4a7c15 &+ UInt64(m * 131 + n * 7 + k)
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        // Activations 0…127 and weights -127…127, a third of them at the extremes (the saturation bound of vpmaddubsw).
        let xq = (0..<(m * ldq)).map { _ in next() % 3 == 0 ? UInt8(127) : UInt8(next() % 128) }
        var q = (0..<(n * k)).map { _ in next() % 3 == 0 ? Int8(next() % 2 == 0 ? 127 : -127) : Int8(Int(next() % 255) - 127) }
        // Row 0 all 127, row 1 all -128 (allowed, though the weights file never holds it): pair sums up to
        // ±2·127·128 = ±32512 where the activations are 127, just inside int16.
        for t in 0..<k { q[t] = 127; if n > 1 { q[k + t] = -128 } }
        let packed = PackedInt8Matrix(q, rows: n, cols: k)
        var fast = [Int32](repeating: -1, count: m * n), plain = [Int32](repeating: -2, count: m * n)
        let ran = Kernels.u8s8Sums(m: m, n: n, k: k, xq: xq, ldq: ldq, packed: packed.pointer, q: q, c: &fast, ldc: n, reference: false)
        Kernels.u8s8Sums(m: m, n: n, k: k, xq: xq, ldq: ldq, packed: packed.pointer, q: q, c: &plain, ldc: n, reference: true)
        try #require(ran, "AVX2 not available")
        let maxDiff = zip(fast, plain).map { abs(Int64($0) - Int64($1)) }.max() ?? 0
        #expect(maxDiff == 0, "max |int32 difference| \(maxDiff)")
    }

    @Test("u8 × s8 GEMM on floats: AVX2 equals the plain loop bitwise; ≈ the fp32 product of the dequantised weights",
          arguments: u8s8Shapes, [0, 3, 16])
    func u8s8Matmul(shape: (Int, Int, Int), outliers: Int) {
        let (m, n, k) = shape
        var x = randomFloats(m * k, seed: 21, scale: 3)
        // One outlier channel; special rows: all zero, all positive, all negative, one constant.
        for i in 0..<m { x[i * k + k / 2] *= 10 }
        if m > 3 {
            for t in 0..<k { x[t] = 0; x[k + t] = abs(x[k + t]) + 0.5; x[2 * k + t] = -abs(x[2 * k + t]); x[3 * k + t] = 1.25 }
        }
        let w = randomFloats(n * k, seed: 22)
        var qw = [Int8](repeating: 0, count: n * k), sw = [Float](repeating: 0, count: n)
        w.withUnsafeBufferPointer { QuantizedWeights.quantizeRows($0.baseAddress!, rows: n, cols: k, into: &qw, scales: &sw) }
        let packed = PackedInt8Matrix(qw, rows: n, cols: k)
        let ldy = n + 3
        var fast = [Float](repeating: .nan, count: m * ldy), plain = fast
        Kernels.packedInt8Matmul(m: m, n: n, k: k, x: x, ldx: k, packed: packed.pointer, q: qw, scales: sw, y: &fast, ldy: ldy,
                                 outliers: outliers)
        Kernels.packedInt8Matmul(m: m, n: n, k: k, x: x, ldx: k, packed: packed.pointer, q: qw, scales: sw, y: &plain, ldy: ldy,
                                 outliers: outliers, reference: true)
        let rows = (0..<m).flatMap { i in (0..<n).map { i * ldy + $0 } }
        #expect(rows.allSatisfy { fast[$0].bitPattern == plain[$0].bitPattern }, "same integer sums, same float scaling")
        #expect((0..<m).allSatisfy { i in (n..<ldy).allSatisfy { fast[i * ldy + $0].isNaN } }, "nothing written past n")
        // Each activation is off by at most half a step (max(row, 0) − min(row, 0)) / 127 (outlier channels, taken
        // out of the row, by nothing), so each output by at most Σ_t |w_t| · step / 2 (plus float rounding).
        var deq = [Float](repeating: 0, count: n * k)
        Int8Kernels.dequantize(qw, scales: sw, rows: n, cols: k, into: &deq)
        let expected = ReferenceKernels.linear(x, deq, nil, m: m, n: n, k: k)
        for i in 0..<m {
            let row = x[(i * k)..<(i * k + k)]
            let step = (max(row.max()!, 0) - min(row.min()!, 0)) / 127
            for j in 0..<n {
                let l1 = (0..<k).reduce(Float(0)) { $0 + abs(deq[j * k + $1]) }
                let bound = l1 * step * 0.5 * 1.001 + 1e-4
                let err = abs(fast[i * ldy + j] - expected[i * n + j])
                if err > bound { Issue.record("(\(i), \(j)): error \(err) over bound \(bound)"); return }
            }
        }
    }

    @Test("outlier channels: the largest |x| first, lowest index on ties, at most k")
    func outlierChannels() {
        let (m, k) = (300, 40)
        var x = randomFloats(m * k, seed: 24)
        for i in 0..<m { x[i * k + 7] = 50; x[i * k + 3] = -20; x[i * k + 30] = -20 }
        #expect(Kernels.outlierChannels(x, m: m, k: k, ldx: k, count: 3) == [7, 3, 30])
        #expect(Kernels.outlierChannels(x, m: m, k: k, ldx: k, count: 0) == [])
        #expect(Kernels.outlierChannels(x, m: 2, k: 3, ldx: k, count: 16).sorted() == [0, 1, 2])
    }

    @Test("7-bit row quantisation: values in 0…127, zero exact, within half a step", arguments: [(1, 1), (5, 37), (4, 384)])
    func quantizeU7(shape: (Int, Int)) {
        let (m, k) = shape
        var x = randomFloats(m * k, seed: 23, scale: 2)
        if m > 1 { for t in 0..<k { x[k + t] = 0 } }
        let ldq = (k + 3) / 4 * 4
        var xq = [UInt8](repeating: 255, count: m * ldq), s = [Float](repeating: 0, count: m), z = [Int32](repeating: -1, count: m)
        Kernels.quantizeRowsU7(x, m: m, k: k, ldx: k, into: &xq, ldq: ldq, scales: &s, zeroPoints: &z)
        // A mask of zeros and ones: masked columns are the zero point, the step comes from the others.
        let mask = (0..<k).map { Float($0 % 3 == 0 ? 0 : 1) }
        var mq = xq, ms = s, mz = z
        Kernels.quantizeRowsU7(x, m: m, k: k, ldx: k, mask: mask, into: &mq, ldq: ldq, scales: &ms, zeroPoints: &mz)
        for i in 0..<m {
            let kept = (0..<k).filter { $0 % 3 != 0 }.map { x[i * k + $0] }
            let step = (max(kept.max() ?? 0, 0) - min(kept.min() ?? 0, 0)) / 127
            #expect(ms[i] == (step > 0 ? step : 1))
            for t in stride(from: 0, to: k, by: 3) { #expect(Int32(mq[i * ldq + t]) == mz[i]) }
        }
        for i in 0..<m {
            #expect((0...127).contains(z[i]))
            for t in 0..<ldq {
                #expect(xq[i * ldq + t] <= 127)
                if t >= k { #expect(Int32(xq[i * ldq + t]) == z[i]); continue }
                let v = x[i * k + t], back = s[i] * Float(Int32(xq[i * ldq + t]) - z[i])
                if v == 0 { #expect(back == 0) }
                #expect(abs(back - v) <= s[i] * 0.5 * 1.0001 + 1e-7, "row \(i) col \(t): \(v) → \(back)")
            }
        }
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
