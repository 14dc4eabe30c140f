import Foundation

/// Reading the tool's JSON input leniently, as Python's `json` module would.
public enum JSONTextList {
    /// Replaces `\uD8xx`-style escapes of lone (unpaired) UTF-16 surrogates by `\uFFFD`, which
    /// Foundation's JSON parsers reject but Python's `json` accepts (the reference tokenizer
    /// then sees U+FFFD, which its normaliser removes). Invalid UTF-8 is replaced by U+FFFD.
    public static func sanitize(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        func hexValue(at i: Int) -> UInt32? {
            guard i + 6 <= bytes.count, bytes[i] == 0x5C, bytes[i + 1] == 0x75 else { return nil }
            var v: UInt32 = 0
            for k in 2..<6 {
                let c = bytes[i + k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: return nil
                }
                v = v << 4 | d
            }
            return v
        }
        let replacement = Array("\\ufffd".utf8)
        var i = 0
        var inString = false
        while i < bytes.count {
            let b = bytes[i]
            if !inString {
                if b == 0x22 { inString = true }
                out.append(b); i += 1; continue
            }
            if b == 0x22 { inString = false; out.append(b); i += 1; continue }
            if b != 0x5C { out.append(b); i += 1; continue }
            // Escape sequence.
            if let v = hexValue(at: i) {
                if (0xD800...0xDBFF).contains(v) {
                    if let w = hexValue(at: i + 6), (0xDC00...0xDFFF).contains(w) {
                        out.append(contentsOf: bytes[i..<(i + 12)]); i += 12; continue
                    }
                    out.append(contentsOf: replacement); i += 6; continue
                }
                if (0xDC00...0xDFFF).contains(v) { out.append(contentsOf: replacement); i += 6; continue }
                out.append(contentsOf: bytes[i..<(i + 6)]); i += 6; continue
            }
            out.append(b)
            if i + 1 < bytes.count { out.append(bytes[i + 1]) }
            i += 2
        }
        // Re-encode through String to replace invalid UTF-8 with U+FFFD.
        return Data(String(decoding: out, as: UTF8.self).utf8)
    }

    /// Parses a JSON array of strings, or of objects with a `"text"` string field.
    public static func texts(from data: Data) throws(CodeSageError) -> [String] {
        let clean = sanitize(data)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: clean, options: [.fragmentsAllowed])
        } catch {
            throw CodeSageError(.invalidArgument, "input is not valid JSON", cause: error)
        }
        guard let array = object as? [Any] else { throw CodeSageError(.invalidArgument, "input must be a JSON array of strings") }
        var texts: [String] = []
        texts.reserveCapacity(array.count)
        for (index, item) in array.enumerated() {
            if let text = item as? String {
                texts.append(text)
            } else if let object = item as? [String: Any], let text = object["text"] as? String {
                texts.append(text)
            } else {
                throw CodeSageError(.invalidArgument, "item \(index) is neither a string nor an object with a \"text\" string")
            }
        }
        return texts
    }
}
