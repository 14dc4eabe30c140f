/// Turns a setting's text into a typed value, or an error naming the variable, the value and what is accepted.
public enum SettingParser {
    /// Parses `text` as a value of `spec`; `home` expands a leading `~` in paths.
    public static func parse(_ text: String, for spec: SettingSpec, home: String?) throws(CodeSageError) -> SettingValue {
        let trimmed = text.trimmingWhitespace()
        guard let value = parseValue(trimmed, kind: spec.kind, home: home) else {
            throw CodeSageError(.invalidConfiguration,
                                "\(spec.name)=\(quoted(text)) is not valid: expected \(spec.kind.accepted)")
        }
        return value
    }

    private static func parseValue(_ text: String, kind: SettingKind, home: String?) -> SettingValue? {
        switch kind {
        case .boolean:
            switch text.lowercased() {
            case "true", "1", "yes", "on": return .boolean(true)
            case "false", "0", "no", "off": return .boolean(false)
            default: return nil
            }
        case .integer(let range):
            guard let number = Int(text), range.contains(number) else { return nil }
            return .integer(number)
        case .fraction(let range):
            guard let number = Double(text), number.isFinite, range.contains(number) else { return nil }
            return .fraction(number)
        case .size(let minimum):
            guard let bytes = ByteSize.parse(text), bytes >= minimum else { return nil }
            return .bytes(bytes)
        case .choice(let words):
            let word = text.lowercased()
            return words.contains(word) ? .word(word) : nil
        case .path:
            guard !text.isEmpty, !text.contains("\0") else { return nil }
            if text == "~" || text.hasPrefix("~/"), let home {
                return .path(home + text.dropFirst())
            }
            return .path(text)
        case .cpuAffinity:
            return CPUAffinity.parse(text).map { .affinity($0) }
        case .fileMode:
            guard !text.isEmpty, text.count <= 4, let mode = UInt32(text, radix: 8), mode <= 0o777 else { return nil }
            return .mode(mode)
        case .secret:
            return text.isEmpty ? nil : .secret(text)
        }
    }

    /// Quotes a value for an error message, showing control characters escaped and long values cut.
    static func quoted(_ text: String) -> String {
        let shown = text.count > 80 ? String(text.prefix(77)) + "..." : text
        return "\"" + shown.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined() + "\""
    }
}
