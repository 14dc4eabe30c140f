import Foundation
import Testing
@testable import Embedding

@Suite("SafetensorsFile")
struct SafetensorsTests {
    /// Writes a safetensors file with `header` (raw JSON text) and `data` bytes.
    func write(_ header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) throws -> URL {
        let dir = try TestSupport.tempDirectory()
        let url = dir.appendingPathComponent("t.safetensors")
        var bytes = [UInt8]()
        let h = Array(header.utf8)
        withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        bytes += h + data
        try Data(bytes).write(to: url)
        return url
    }

    func message(_ url: URL) -> String {
        do { _ = try SafetensorsFile(url: url); return "no error" } catch { return "\(error)" }
    }

    @Test("a valid file gives typed views without copying")
    func valid() throws {
        var data = [UInt8]()
        for f: Float in [1, 2, 3, 4, 5, 6] { withUnsafeBytes(of: f.bitPattern.littleEndian) { data += $0 } }
        let header = #"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"__metadata__":{"format":"pt"}}    "#
        let url = try write(header, data: data)
        let file = try SafetensorsFile(url: url)
        #expect(file.tensors["a"]?.shape == [2, 3])
        #expect(file.metadata["format"] == "pt")
        #expect(Array(try file.floats("a")) == [1, 2, 3, 4, 5, 6])
        #expect(file.file.size == 8 + header.utf8.count + 24)
    }

    @Test("corrupt headers give clear errors")
    func corrupt() throws {
        #expect(message(try write("{}", lengthOverride: 1_000_000)).contains("header length 1000000 out of range"))
        #expect(message(try write("not json")).contains("header is not a JSON object"))
        #expect(message(try write(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [0, 0, 0, 0]))
                    .contains("tensor a: data_offsets [0, 16] out of range (data has 4 bytes)"))
        #expect(message(try write(#"{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}"#, data: [0]))
                    .contains("tensor a: unknown dtype Q4"))
        #expect(message(try write(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)))
                    .contains("needs 12 bytes"))
        #expect(message(try write(#"{"a":{"dtype":"F32"}}"#)).contains("entry needs dtype, shape and data_offsets"))
        // Found by fuzzing: a header length over Int.max, and a shape whose element count overflows Int,
        // trapped instead of being refused.
        #expect(message(try write("{}", lengthOverride: UInt64.max - 3)).contains("header length 18446744073709551612 out of range"))
        #expect(message(try write(#"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#))
                    .contains("needs more bytes than a file can hold"))
        let tiny = try TestSupport.tempDirectory().appendingPathComponent("tiny.safetensors")
        try Data([1, 2, 3]).write(to: tiny)
        #expect(message(tiny).contains("too small"))
    }
}
