/// int8 kernels in plain Swift SIMD.
///
/// `dequantize` is used by the int8 encoder for large batches (then `sgemm`). The int8·int8
/// path (`quantizeRows` + `matmulTransB`) is kept and tested as the measured alternative but
/// not used: at Swift's x86-64 baseline (SSE2, no AVX2, no build flags) the generic SIMD
/// integer widenings are not lowered to vector instructions, and a 15-token query took 68 ms
/// versus 4.5 ms for the AVX2 C kernel that widens int8 weights to fp32 in registers.
enum Int8Kernels {
    /// qa: [m, k] int8 and scales: [m] — dynamic symmetric per-row quantisation of x: [m, k]
    /// (scale = max|row| / 127, round half away from zero).
    static func quantizeRows(_ x: UnsafePointer<Float>, m: Int, k: Int,
                             into qa: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        for r in 0..<m {
            let row = x + r * k
            var mv = V(repeating: 0)
            var j = 0
            while j + 8 <= k { let v = Kernels.load(row + j); mv = Kernels.vmax(mv, Kernels.vmax(v, -v)); j += 8 }
            var mx = mv.max()
            while j < k { mx = max(mx, abs(row[j])); j += 1 }
            let scale: Float = mx > 0 ? mx / 127 : 1
            scales[r] = scale
            let inv = V(repeating: 1 / scale)
            let out = qa + r * k
            j = 0
            while j + 8 <= k {
                let v = Kernels.load(row + j) * inv
                let rounded = v + V(repeating: 0.5).replacing(with: V(repeating: -0.5), where: v .< 0)
                let i32 = SIMD8<Int32>(rounded, rounding: .towardZero)
                UnsafeMutableRawPointer(out + j).storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: i32), as: SIMD8<Int8>.self)
                j += 8
            }
            while j < k { out[j] = Int8((row[j] * inv[0]).rounded()); j += 1 }
        }
    }

    /// Σ a[i]·b[i] over k int8 elements, exact in Int32.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ k: Int) -> Int32 {
        var acc0 = SIMD16<Int32>(repeating: 0)
        var acc1 = SIMD16<Int32>(repeating: 0)
        var j = 0
        while j + 32 <= k {
            let a0 = SIMD16<Int16>(truncatingIfNeeded: UnsafeRawPointer(a + j).loadUnaligned(as: SIMD16<Int8>.self))
            let b0 = SIMD16<Int16>(truncatingIfNeeded: UnsafeRawPointer(b + j).loadUnaligned(as: SIMD16<Int8>.self))
            let a1 = SIMD16<Int16>(truncatingIfNeeded: UnsafeRawPointer(a + j + 16).loadUnaligned(as: SIMD16<Int8>.self))
            let b1 = SIMD16<Int16>(truncatingIfNeeded: UnsafeRawPointer(b + j + 16).loadUnaligned(as: SIMD16<Int8>.self))
            acc0 &+= SIMD16<Int32>(truncatingIfNeeded: a0 &* b0)
            acc1 &+= SIMD16<Int32>(truncatingIfNeeded: a1 &* b1)
            j += 32
        }
        var s = (acc0 &+ acc1).wrappedSum()
        while j < k { s &+= Int32(a[j]) * Int32(b[j]); j += 1 }
        return s
    }

    /// y: [m, n] = (qa: [m, k] · qwᵀ) · sa[i] · sw[j], where qw: [n, k] int8 with scales sw: [n].
    static func matmulTransB(m: Int, n: Int, k: Int,
                             qa: UnsafePointer<Int8>, sa: UnsafePointer<Float>,
                             qw: UnsafePointer<Int8>, sw: UnsafePointer<Float>,
                             y: UnsafeMutablePointer<Float>, ldy: Int) {
        for j in 0..<n {
            let w = qw + j * k
            let s = sw[j]
            for i in 0..<m {
                y[i * ldy + j] = Float(dot(qa + i * k, w, k)) * sa[i] * s
            }
        }
    }

    /// w: [rows, cols] fp32 = q · scale per row (dequantise a whole matrix for `sgemm`).
    static func dequantize(_ q: UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int, cols: Int,
                           into w: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let s = SIMD8<Float>(repeating: scales[r])
            let src = q + r * cols, dst = w + r * cols
            var c = 0
            while c + 8 <= cols {
                let v = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(src + c).loadUnaligned(as: SIMD8<Int8>.self)))
                Kernels.store(v * s, dst + c)
                c += 8
            }
            while c < cols { dst[c] = Float(src[c]) * scales[r]; c += 1 }
        }
    }
}
