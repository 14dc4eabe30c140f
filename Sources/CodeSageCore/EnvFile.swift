/// A profile: `KEY=VALUE` lines of CODESAGE_* settings, as in config/*.env.
///
/// Blank lines and lines starting with `#` are ignored; `export ` before a key is allowed;
/// a value may be wrapped in single or double quotes. Any other line is an error naming the line.
public struct EnvFile: Sendable, Equatable {
    /// Where the file was read from, as given.
    public let path: String
    /// The assignments, in file order (a later one for the same key wins).
    public let values: [String: String]

    /// Parses the text of a profile.
    public init(path: String, text: String) throws(CodeSageError) {
        var values: [String: String] = [:]
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingWhitespace() }
            guard let equals = line.firstIndex(of: "=") else {
                throw CodeSageError(.invalidConfiguration, "\(path):\(offset + 1): expected KEY=VALUE, found \(SettingParser.quoted(line))")
            }
            let key = line[..<equals].trimmingWhitespace()
            var value = line[line.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            guard SettingCatalog.spec(named: key) != nil else {
                throw CodeSageError(.invalidConfiguration, "\(path):\(offset + 1): unknown setting \(SettingParser.quoted(key)); `codesage config` lists the known ones")
            }
            values[key] = value
        }
        self.path = path
        self.values = values
    }
}
