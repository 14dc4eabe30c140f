import CBLAS
import Testing

/// The plain-loop reference: c[m, n] = a[m, k] · b[k, n], row-major.
func naiveMatmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
            c[i * n + j] = sum
        }
    }
    return c
}

@Suite("OpenBLAS cblas_sgemm")
struct BLASTests {
    @Test("matches the plain loop on odd shapes", arguments: [(1, 1, 1), (3, 7, 5), (17, 33, 9), (64, 384, 384), (5, 1, 130)])
    func sgemm(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = (0..<(m * k)).map { Float(($0 * 37) % 19) / 19 - 0.5 }
        let b = (0..<(k * n)).map { Float(($0 * 11) % 23) / 23 - 0.5 }
        var c = [Float](repeating: 0, count: m * n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        let expected = naiveMatmul(a, b, m: m, n: n, k: k)
        let worst = zip(c, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "max difference \(worst)")
    }
}
