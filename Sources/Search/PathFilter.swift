import IndexStore
import SourceModel

/// Which files a search may return: file types and gitignore-style path patterns.
public struct PathFilter: Sendable {
    /// Extensions ("py", ".py", "*.py") or language names ("python"); empty = all.
    public var fileTypes: [String]
    /// Patterns a path must match one of (empty = all), in .gitignore syntax.
    public var includePatterns: [String]
    /// Patterns that exclude a path, in .gitignore syntax ("tests/", "*_test.go", "/vendor").
    public var excludePatterns: [String]

    private let includes: [IgnorePattern]
    private let excludes: IgnoreRules
    private let extensions: Set<String>
    private let languages: Set<String>

    public init(fileTypes: [String] = [], includePatterns: [String] = [], excludePatterns: [String] = []) {
        self.fileTypes = fileTypes
        self.includePatterns = includePatterns
        self.excludePatterns = excludePatterns
        includes = includePatterns.compactMap { IgnorePattern(line: $0) }
        var rules = IgnoreRules()
        rules.add(excludePatterns.joined(separator: "\n"), directory: "")
        excludes = rules
        var extensions = Set<String>()
        var languages = Set<String>()
        for type in fileTypes {
            var word = Substring(type.lowercased())
            if word.hasPrefix("*") { word.removeFirst() }
            if word.hasPrefix(".") { word.removeFirst(); extensions.insert(String(word)); continue }
            extensions.insert(String(word))
            languages.insert(String(word))
        }
        self.extensions = extensions
        self.languages = languages
    }

    /// Whether `path` (relative, "/"-separated) of language `language` passes the filter.
    public func accepts(path: String, language: String?) -> Bool {
        if !fileTypes.isEmpty {
            let name = path.split(separator: "/").last ?? Substring(path)
            let ext = name.lastIndex(of: ".").map { String(name[name.index(after: $0)...]).lowercased() }
            let byExtension = ext.map { extensions.contains($0) } ?? false
            let byLanguage = language.map { languages.contains($0) } ?? false
            if !byExtension && !byLanguage { return false }
        }
        let components = path.split(separator: "/")
        var prefix = ""
        for (index, component) in components.enumerated() {
            prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
            let isDirectory = index < components.count - 1
            if excludes.isIgnored(prefix, isDirectory: isDirectory) { return false }
        }
        if !includes.isEmpty {
            var matched = false
            prefix = ""
            for (index, component) in components.enumerated() where !matched {
                prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
                matched = includes.contains { $0.matches(prefix, isDirectory: index < components.count - 1) }
            }
            if !matched { return false }
        }
        return true
    }
}
