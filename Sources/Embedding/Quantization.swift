import CodeSageCore
import Platform
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// int8 weights of a model in a mappable file (`.cswq`), written once beside the model and
/// then memory-mapped.
///
/// Linear-layer weights and the word-embedding table are int8 with one fp32 scale per row
/// (symmetric, scale = max|row| / 127); biases, LayerNorm parameters and the position and
/// token-type tables stay fp32 (they are small). The int8 encoder reads only this file.
///
/// Layout (little-endian): magic `CSWQ`, version UInt32 (1), header size UInt32, tensor count
/// UInt32, model fingerprint UInt64, then per tensor: name length UInt16, name (UTF-8), kind
/// UInt8 (0 = fp32, 1 = int8 rows + fp32 scales), rows UInt32, cols UInt32, data offset UInt64,
/// scales offset UInt64. Every data block starts at a multiple of 64 bytes.
public final class QuantizedWeights: Sendable {
    /// File magic.
    public static let magic: [UInt8] = Array("CSWQ".utf8)
    /// Format version.
    public static let version: UInt32 = 1
    /// Alignment of every data block.
    public static let alignment = 64

    /// One tensor's entry.
    public struct Entry: Sendable, Equatable {
        /// Tensor name (safetensors name without prefix, or `encoder.layer.N.attention.qkv.*`).
        public let name: String
        /// Whether the data is int8 rows with scales (else fp32).
        public let isInt8: Bool
        /// Rows (1 for vectors).
        public let rows: Int
        /// Columns.
        public let cols: Int
        /// Absolute offset of the data.
        public let dataOffset: Int
        /// Absolute offset of the row scales (int8 only).
        public let scalesOffset: Int
    }

    /// The mapping.
    public let file: MappedFile
    /// Fingerprint of the safetensors file it was made from.
    public let fingerprint: UInt64
    /// Entries by name.
    public let entries: [String: Entry]

    /// The default location: `<model>/model.int8.cswq`.
    public static func defaultURL(modelDirectory: URL) -> URL {
        modelDirectory.appendingPathComponent("model.int8.cswq")
    }

    /// A fingerprint of a safetensors file (FNV-1a of its JSON header and its size).
    public static func fingerprint(of source: SafetensorsFile) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in source.headerBytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h ^ UInt64(source.file.size)
    }

    /// Maps and validates the file at `url`.
    public init(url: URL) throws {
        let file = try MappedFile(path: url.path)
        func fail(_ m: String) -> CodeSageError { EmbeddingError.corruptQuantizedFile("\(url.lastPathComponent): \(m)") }
        var cursor = 0
        func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
            guard cursor + MemoryLayout<T>.size <= file.size else { throw fail("truncated header") }
            let v = T(littleEndian: file.base.loadUnaligned(fromByteOffset: cursor, as: T.self))
            cursor += MemoryLayout<T>.size
            return v
        }
        guard file.size >= 24, (0..<4).allSatisfy({ file.base.load(fromByteOffset: $0, as: UInt8.self) == Self.magic[$0] }) else {
            throw fail("bad magic (not a CSWQ file)")
        }
        cursor = 4
        let version = try read(UInt32.self)
        guard version == Self.version else { throw fail("unsupported version \(version)") }
        let headerSize = Int(try read(UInt32.self))
        guard headerSize <= file.size else { throw fail("header size \(headerSize) beyond end of file") }
        let count = Int(try read(UInt32.self))
        let fingerprint = try read(UInt64.self)
        var entries: [String: Entry] = [:]
        for _ in 0..<count {
            let nameLength = Int(try read(UInt16.self))
            guard cursor + nameLength <= headerSize else { throw fail("truncated tensor table") }
            let name = String(decoding: UnsafeRawBufferPointer(start: file.base + cursor, count: nameLength), as: UTF8.self)
            cursor += nameLength
            let kind = try read(UInt8.self)
            let rows = Int(try read(UInt32.self)), cols = Int(try read(UInt32.self))
            let dataOffset = Int(try read(UInt64.self)), scalesOffset = Int(try read(UInt64.self))
            guard kind <= 1 else { throw fail("tensor \(name): unknown kind \(kind)") }
            let dataBytes = rows * cols * (kind == 1 ? 1 : 4)
            guard dataOffset >= headerSize, dataOffset % Self.alignment == 0, dataOffset + dataBytes <= file.size else {
                throw fail("tensor \(name): data out of range")
            }
            if kind == 1 {
                guard scalesOffset >= headerSize, scalesOffset % Self.alignment == 0, scalesOffset + rows * 4 <= file.size else {
                    throw fail("tensor \(name): scales out of range")
                }
            }
            entries[name] = Entry(name: name, isInt8: kind == 1, rows: rows, cols: cols,
                                  dataOffset: dataOffset, scalesOffset: scalesOffset)
        }
        guard cursor <= headerSize else { throw fail("tensor table overruns header") }
        self.file = file
        self.fingerprint = fingerprint
        self.entries = entries
    }

    /// The fp32 tensor `name` with `count` elements.
    func floats(_ name: String, count: Int) throws -> UnsafePointer<Float> {
        guard let e = entries[name], !e.isInt8, e.rows * e.cols == count else {
            throw EmbeddingError.corruptQuantizedFile("tensor \(name): missing or not fp32 [\(count)]")
        }
        return (file.base + e.dataOffset).assumingMemoryBound(to: Float.self)
    }

    /// The int8 matrix `name` of shape [rows, cols].
    func matrix(_ name: String, rows: Int, cols: Int) throws -> MatrixWeights {
        guard let e = entries[name], e.isInt8, e.rows == rows, e.cols == cols else {
            throw EmbeddingError.corruptQuantizedFile("tensor \(name): missing or not int8 [\(rows), \(cols)]")
        }
        return .int8((file.base + e.dataOffset).assumingMemoryBound(to: Int8.self),
                     scales: (file.base + e.scalesOffset).assumingMemoryBound(to: Float.self), packed: nil)
    }

    /// Opens the quantised file at `url` (default: beside the model) if it exists and matches
    /// the model; otherwise writes it from `model.safetensors` first.
    public static func loadOrCreate(modelDirectory: URL, config: ModelConfig, url: URL? = nil) throws -> QuantizedWeights {
        let target = url ?? defaultURL(modelDirectory: modelDirectory)
        let source = try SafetensorsFile(url: modelDirectory.appendingPathComponent("model.safetensors"))
        let expected = fingerprint(of: source)
        if FileManager.default.fileExists(atPath: target.path),
           let existing = try? QuantizedWeights(url: target), existing.fingerprint == expected {
            return existing
        }
        try write(from: source, config: config, to: target)
        return try QuantizedWeights(url: target)
    }

    /// Quantises `source` and writes the file atomically (temp name, fsync, rename).
    public static func write(from source: SafetensorsFile, config: ModelConfig, to url: URL) throws {
        let prefix = try config.validate(source)
        let h = config.hiddenSize
        // (name, isInt8, rows, cols, data)
        var tensors: [(String, Bool, Int, Int, [Float])] = []
        func get(_ name: String) throws -> [Float] { Array(try source.floats(prefix + name)) }
        tensors.append(("embeddings.word_embeddings.weight", true, config.vocabSize, h, try get("embeddings.word_embeddings.weight")))
        for name in ["embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
                     "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"] {
            let v = try get(name)
            tensors.append((name, false, 1, v.count, v))
        }
        for l in 0..<config.numHiddenLayers {
            let p = "encoder.layer.\(l)."
            let qkvW = try get(p + "attention.self.query.weight") + get(p + "attention.self.key.weight") + get(p + "attention.self.value.weight")
            let qkvB = try get(p + "attention.self.query.bias") + get(p + "attention.self.key.bias") + get(p + "attention.self.value.bias")
            tensors.append((p + "attention.qkv.weight", true, 3 * h, h, qkvW))
            tensors.append((p + "attention.qkv.bias", false, 1, 3 * h, qkvB))
            for (name, rows, cols) in [("attention.output.dense", h, h), ("intermediate.dense", config.intermediateSize, h),
                                       ("output.dense", h, config.intermediateSize)] {
                tensors.append((p + name + ".weight", true, rows, cols, try get(p + name + ".weight")))
                let b = try get(p + name + ".bias")
                tensors.append((p + name + ".bias", false, 1, b.count, b))
            }
            for name in ["attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
                         "output.LayerNorm.weight", "output.LayerNorm.bias"] {
                let v = try get(p + name)
                tensors.append((p + name, false, 1, v.count, v))
            }
        }

        func align(_ x: Int) -> Int { (x + alignment - 1) / alignment * alignment }
        var headerSize = 4 + 4 + 4 + 4 + 8
        for t in tensors { headerSize += 2 + t.0.utf8.count + 1 + 4 + 4 + 8 + 8 }
        var offset = align(headerSize)
        var layout: [(data: Int, scales: Int)] = []
        for t in tensors {
            let data = offset
            offset = align(offset + t.2 * t.3 * (t.1 ? 1 : 4))
            var scales = 0
            if t.1 { scales = offset; offset = align(offset + t.2 * 4) }
            layout.append((data, scales))
        }
        var bytes = [UInt8](repeating: 0, count: offset)
        func put<T: FixedWidthInteger>(_ v: T, at i: inout Int) {
            withUnsafeBytes(of: v.littleEndian) { for b in $0 { bytes[i] = b; i += 1 } }
        }
        var i = 0
        for b in magic { bytes[i] = b; i += 1 }
        put(version, at: &i); put(UInt32(headerSize), at: &i); put(UInt32(tensors.count), at: &i)
        put(fingerprint(of: source), at: &i)
        for (t, l) in zip(tensors, layout) {
            put(UInt16(t.0.utf8.count), at: &i)
            for b in t.0.utf8 { bytes[i] = b; i += 1 }
            put(UInt8(t.1 ? 1 : 0), at: &i); put(UInt32(t.2), at: &i); put(UInt32(t.3), at: &i)
            put(UInt64(l.data), at: &i); put(UInt64(l.scales), at: &i)
        }
        bytes.withUnsafeMutableBytes { raw in
            for (t, l) in zip(tensors, layout) {
                if t.1 {
                    let q = (raw.baseAddress! + l.data).assumingMemoryBound(to: Int8.self)
                    let s = (raw.baseAddress! + l.scales).assumingMemoryBound(to: Float.self)
                    t.4.withUnsafeBufferPointer { w in
                        quantizeRows(w.baseAddress!, rows: t.2, cols: t.3, into: q, scales: s)
                    }
                } else {
                    for (k, v) in t.4.enumerated() {
                        raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: l.data + 4 * k, as: UInt32.self)
                    }
                }
            }
        }
        try FileSystem.writeDurably(bytes, to: url.path)
    }

    /// q: [rows, cols] int8, scales: [rows] — symmetric per-row quantisation of w: [rows, cols].
    static func quantizeRows(_ w: UnsafePointer<Float>, rows: Int, cols: Int,
                             into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = w + r * cols
            var mx: Float = 0
            for c in 0..<cols { mx = max(mx, abs(row[c])) }
            let scale = mx > 0 ? mx / 127 : 1
            scales[r] = scale
            let inv = 1 / scale
            for c in 0..<cols { q[r * cols + c] = Int8(max(-127, min(127, (row[c] * inv).rounded()))) }
        }
    }
}
