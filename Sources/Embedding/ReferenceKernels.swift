import Foundation

/// Plain-loop twins of `Kernels` (double accumulation, Foundation `erf`/`exp`), used by the
/// tests as the ground truth on odd shapes. Row-major arrays.
enum ReferenceKernels {
    /// y: [m, n] = x: [m, k] · wᵀ (w: [n, k]) + bias: [n].
    static func linear(_ x: [Float], _ w: [Float], _ bias: [Float]?, m: Int, n: Int, k: Int) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = Double(bias?[j] ?? 0)
                for t in 0..<k { s += Double(x[i * k + t]) * Double(w[j * k + t]) }
                y[i * n + j] = Float(s)
            }
        }
        return y
    }

    /// x: [m, n] → LayerNorm per row · gamma + beta.
    static func layerNorm(_ x: [Float], m: Int, n: Int, gamma: [Float], beta: [Float], eps: Float) -> [Float] {
        var y = x
        for i in 0..<m {
            let row = x[(i * n)..<((i + 1) * n)].map(Double.init)
            let mean = row.reduce(0, +) / Double(n)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            for j in 0..<n {
                y[i * n + j] = Float((row[j] - mean) / (variance + Double(eps)).squareRoot() * Double(gamma[j]) + Double(beta[j]))
            }
        }
        return y
    }

    /// Exact GELU, element-wise: 0.5·x·(1 + erf(x/√2)).
    static func gelu(_ x: [Float]) -> [Float] {
        x.map { v in Float(0.5 * Double(v) * (1 + Foundation.erf(Double(v) / 2.0.squareRoot()))) }
    }

    /// Row softmax of x: [m, n].
    static func softmax(_ x: [Float], m: Int, n: Int) -> [Float] {
        var y = x
        for i in 0..<m {
            let row = x[(i * n)..<((i + 1) * n)].map(Double.init)
            let mx = row.max() ?? 0
            let e = row.map { Foundation.exp($0 - mx) }
            let s = e.reduce(0, +)
            for j in 0..<n { y[i * n + j] = Float(e[j] / s) }
        }
        return y
    }

    /// Multi-head self-attention of one unpadded sequence.
    /// qkv: [len, 3·heads·headSize] (Q | K | V) → ctx: [len, heads·headSize].
    static func attention(_ qkv: [Float], len: Int, heads: Int, headSize: Int) -> [Float] {
        let hidden = heads * headSize
        var ctx = [Float](repeating: 0, count: len * hidden)
        let scale = 1 / Double(headSize).squareRoot()
        for h in 0..<heads {
            for i in 0..<len {
                var scores = [Double](repeating: 0, count: len)
                for j in 0..<len {
                    var s = 0.0
                    for d in 0..<headSize {
                        s += Double(qkv[i * 3 * hidden + h * headSize + d]) * Double(qkv[j * 3 * hidden + hidden + h * headSize + d])
                    }
                    scores[j] = s * scale
                }
                let mx = scores.max() ?? 0
                let e = scores.map { Foundation.exp($0 - mx) }
                let sum = e.reduce(0, +)
                for d in 0..<headSize {
                    var acc = 0.0
                    for j in 0..<len { acc += e[j] / sum * Double(qkv[j * 3 * hidden + 2 * hidden + h * headSize + d]) }
                    ctx[i * hidden + h * headSize + d] = Float(acc)
                }
            }
        }
        return ctx
    }
}
