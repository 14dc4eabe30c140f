import Testing
@testable import Caching
@testable import CodeSageCore

@Suite("zstd and LZ4")
struct CompressionTests {
    static let text = Array(String(repeating: "func parse(arguments: [String]) -> Options { /* code */ }\n", count: 400).utf8)
    static let samples: [[UInt8]] = [[], [42], text, (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }]

    @Test("LZ4 round trip: empty, one byte, source text, incompressible")
    func lz4() throws {
        for input in Self.samples {
            let frame = try LZ4Codec.compress(input)
            #expect(try LZ4Codec.decompress(frame) == input)
        }
    }

    @Test("zstd round trip at several levels", arguments: [1, 3, 19])
    func zstd(level: Int) throws {
        for input in Self.samples {
            let frame = try ZstdCodec.compress(input, level: level)
            #expect(try ZstdCodec.decompress(frame) == input)
        }
    }

    @Test("repetitive source text compresses well")
    func ratio() throws {
        #expect(try LZ4Codec.compress(Self.text).count * 10 < Self.text.count)
        #expect(try ZstdCodec.compress(Self.text).count * 20 < Self.text.count)
    }

    @Test("damaged frames are errors, not crashes")
    func damaged() throws {
        var lz4 = try LZ4Codec.compress(Self.text)
        lz4[lz4.count / 2] ^= 0xFF
        lz4.removeLast(lz4.count / 3)
        #expect { try LZ4Codec.decompress(lz4) } throws: { ($0 as? CodeSageError)?.code == .corruptData }
        #expect { try LZ4Codec.decompress([1]) } throws: { ($0 as? CodeSageError)?.code == .corruptData }
        var zstd = try ZstdCodec.compress(Self.text)
        zstd.removeLast(zstd.count / 2)
        #expect { try ZstdCodec.decompress(zstd) } throws: { ($0 as? CodeSageError)?.code == .corruptData }
        #expect { try ZstdCodec.decompress([0, 1, 2, 3, 4, 5]) } throws: { ($0 as? CodeSageError)?.code == .corruptData }
        #expect { try ZstdCodec.compress([1], level: 40) } throws: { ($0 as? CodeSageError)?.code == .invalidArgument }
    }
}
