import CLZ4
import CodeSageCore

/// LZ4 block compression for in-memory cache data: fast, moderate ratio.
///
/// Frame: the uncompressed length as a 4-byte little-endian prefix, then one LZ4 block.
public enum LZ4Codec {
    /// Largest input accepted (LZ4's block limit).
    public static let maximumInputSize = Int(LZ4_MAX_INPUT_SIZE)

    /// Bytes of the largest frame `compress` can make from `count` input bytes.
    public static func frameBound(_ count: Int) -> Int { 4 + Int(LZ4_compressBound(Int32(clamping: count))) }

    /// Compresses `input`.
    public static func compress(_ input: [UInt8]) throws(CodeSageError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: frameBound(input.count))
        let written: Result<Int, CodeSageError> = output.withUnsafeMutableBytes { destination in
            Result { () throws(CodeSageError) in try compress(input, into: destination) }
        }
        // A copy at the exact length: shrinking the array in place would keep the worst-case capacity allocated.
        return Array(output[..<(try written.get())])
    }

    /// Compresses `input` into `destination` (at least `frameBound(input.count)` bytes, e.g. a pooled
    /// block); returns the frame's length.
    public static func compress(_ input: [UInt8], into destination: UnsafeMutableRawBufferPointer) throws(CodeSageError) -> Int {
        guard input.count <= maximumInputSize else {
            throw CodeSageError(.invalidArgument, "LZ4: input of \(input.count) bytes exceeds \(maximumInputSize)")
        }
        let bound = frameBound(input.count) - 4
        guard destination.count >= bound + 4 else { throw CodeSageError(.invalidArgument, "LZ4: output buffer too small") }
        withUnsafeBytes(of: UInt32(input.count).littleEndian) { destination.copyMemory(from: $0) }
        let written = input.withUnsafeBytes { source in
            LZ4_compress_default(source.baseAddress?.assumingMemoryBound(to: CChar.self),
                                 destination.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                 Int32(input.count), Int32(bound))
        }
        guard written > 0 || input.isEmpty else { throw CodeSageError(.native, "LZ4_compress_default failed") }
        return 4 + Int(written)
    }

    /// Decompresses a frame made by `compress`; damaged input is an error, never a crash.
    public static func decompress(_ frame: [UInt8]) throws(CodeSageError) -> [UInt8] {
        guard frame.count >= 4 else { throw CodeSageError(.corruptData, "LZ4: frame of \(frame.count) bytes has no length prefix") }
        let length = Int(UInt32(frame[0]) | UInt32(frame[1]) << 8 | UInt32(frame[2]) << 16 | UInt32(frame[3]) << 24)
        guard length <= maximumInputSize else { throw CodeSageError(.corruptData, "LZ4: declared length \(length) is too large") }
        if length == 0 { return [] }
        var output = [UInt8](repeating: 0, count: length)
        let read = frame.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { destination in
                LZ4_decompress_safe(source.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                    destination.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    Int32(frame.count - 4), Int32(length))
            }
        }
        guard read == Int32(length) else { throw CodeSageError(.corruptData, "LZ4: damaged block (decoder returned \(read), expected \(length))") }
        return output
    }
}
