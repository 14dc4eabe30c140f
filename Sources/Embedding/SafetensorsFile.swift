import Foundation
import Platform
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `.safetensors` file, memory-mapped: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data.
public final class SafetensorsFile: Sendable {
    /// One tensor's entry in the header.
    public struct TensorInfo: Sendable, Equatable {
        /// Tensor name.
        public let name: String
        /// Element type as spelled in the file (`F32`, `I64`, …).
        public let dtype: String
        /// Dimensions.
        public let shape: [Int]
        /// Byte range within the file (absolute offsets).
        public let byteRange: Range<Int>
    }

    /// Bytes per element of each dtype the format defines.
    public static let dtypeSizes: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
    ]

    /// The mapping.
    public let file: MappedFile
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]
    /// The raw JSON header bytes (used to fingerprint the model).
    public let headerBytes: Data

    /// Maps and parses the file at `url`; throws `EmbeddingError.corruptSafetensors` when the
    /// header is malformed or points outside the file.
    public init(url: URL) throws {
        let file = try MappedFile(path: url.path)
        let name = url.lastPathComponent
        guard file.size >= 8 else { throw EmbeddingError.corruptSafetensors("\(name): file too small (\(file.size) bytes) for a safetensors header") }
        // Compared as the UInt64 it is: a length over Int.max trapped when converted first (found by fuzzing).
        let declaredLength = UInt64(littleEndian: file.base.loadUnaligned(as: UInt64.self))
        guard declaredLength >= 2, declaredLength <= UInt64(file.size - 8) else {
            throw EmbeddingError.corruptSafetensors("\(name): header length \(declaredLength) out of range (file has \(file.size) bytes)")
        }
        let headerLength = Int(declaredLength)
        let header = Data(bytes: file.base + 8, count: headerLength)
        guard let object = try? JSONSerialization.jsonObject(with: header), let json = object as? [String: Any] else {
            throw EmbeddingError.corruptSafetensors("\(name): header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataSize = file.size - dataStart
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in json {
            if key == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any],
                  let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2 else {
                throw EmbeddingError.corruptSafetensors("\(name): tensor \(key): entry needs dtype, shape and data_offsets [begin, end]")
            }
            guard let elementSize = Self.dtypeSizes[dtype] else {
                throw EmbeddingError.corruptSafetensors("\(name): tensor \(key): unknown dtype \(dtype)")
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }), offsets.count == 2 else {
                throw EmbeddingError.corruptSafetensors("\(name): tensor \(key): shape and data_offsets must be non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw EmbeddingError.corruptSafetensors("\(name): tensor \(key): data_offsets [\(begin), \(end)] out of range (data has \(dataSize) bytes)")
            }
            // The product of a hostile shape overflows: count it in checked arithmetic (the data size bounds any valid one).
            var bytes: Int? = elementSize
            for dimension in shape {
                guard let total = bytes else { break }
                let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
                bytes = overflow ? nil : product
            }
            guard let bytes, bytes == end - begin else {
                throw EmbeddingError.corruptSafetensors("\(name): tensor \(key): shape \(shape) \(dtype) needs \(bytes.map { "\($0) bytes" } ?? "more bytes than a file can hold"), data_offsets give \(end - begin)")
            }
            tensors[key] = TensorInfo(name: key, dtype: dtype, shape: shape, byteRange: (dataStart + begin)..<(dataStart + end))
        }
        self.file = file
        self.tensors = tensors
        self.metadata = metadata
        self.headerBytes = header
    }

    /// A typed view of the F32 tensor `name` (no copy; valid while `self` lives).
    public func floats(_ name: String) throws -> UnsafeBufferPointer<Float> {
        guard let info = tensors[name] else { throw EmbeddingError.tensorMismatch("tensor \(name): missing") }
        guard info.dtype == "F32" else { throw EmbeddingError.tensorMismatch("tensor \(name): expected F32, found \(info.dtype)") }
        let p = file.base + info.byteRange.lowerBound
        guard Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 else {
            throw EmbeddingError.corruptSafetensors("tensor \(name): data is not 4-byte aligned")
        }
        return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: info.byteRange.count / 4)
    }
}
