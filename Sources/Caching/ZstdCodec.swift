import CZstd
import CodeSageCore

/// zstd compression for persistent data (stored chunk text, cache files): better ratio than LZ4.
public enum ZstdCodec {
    /// Compresses `input` at `level` (1...19) into one zstd frame that records its content size.
    public static func compress(_ input: [UInt8], level: Int = 3) throws(CodeSageError) -> [UInt8] {
        guard (1...Int(ZSTD_maxCLevel())).contains(level) else {
            throw CodeSageError(.invalidArgument, "zstd level \(level) is outside 1...\(ZSTD_maxCLevel())")
        }
        let bound = ZSTD_compressBound(input.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_compress(destination.baseAddress, bound, source.baseAddress, input.count, Int32(level))
            }
        }
        if ZSTD_isError(written) != 0 {
            throw CodeSageError(.native, "zstd compress: \(String(cString: ZSTD_getErrorName(written)))")
        }
        // A copy at the exact length: shrinking the array in place would keep the worst-case capacity allocated.
        return Array(output[..<written])
    }

    /// Decompresses one frame; refuses frames that declare more than `limit` bytes. Damaged input is an error.
    public static func decompress(_ frame: [UInt8], limit: Int = 1 << 30) throws(CodeSageError) -> [UInt8] {
        let declared = frame.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, frame.count) }
        // ZSTD_CONTENTSIZE_ERROR = (0ULL - 2), ZSTD_CONTENTSIZE_UNKNOWN = (0ULL - 1).
        guard declared < UInt64.max - 1 else { throw CodeSageError(.corruptData, "zstd: not a frame with a known content size") }
        guard declared <= UInt64(limit) else { throw CodeSageError(.corruptData, "zstd: frame declares \(declared) bytes, over the \(limit)-byte limit") }
        if declared == 0 { return [] }
        var output = [UInt8](repeating: 0, count: Int(declared))
        let read = frame.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                ZSTD_decompress(destination.baseAddress, Int(declared), source.baseAddress, frame.count)
            }
        }
        if ZSTD_isError(read) != 0 {
            throw CodeSageError(.corruptData, "zstd decompress: \(String(cString: ZSTD_getErrorName(read)))")
        }
        guard read == Int(declared) else { throw CodeSageError(.corruptData, "zstd: decoded \(read) bytes, frame declared \(declared)") }
        return output
    }
}
