import CodeSageCore
import SourceModel

/// The line counts of one file.
public struct FileLineCounts: Sendable, Codable, Equatable {
    /// "/"-separated, relative to the root.
    public var path: String
    /// The file's language; nil when neither its name nor a shebang says.
    public var language: Language?
    /// Its code, comment and blank lines.
    public var lines: LineCounts
}

/// The line counts of all files of one language.
public struct LanguageLineCounts: Sendable, Codable, Equatable {
    /// The language; nil gathers the files of no known language.
    public var language: Language?
    /// How many files.
    public var files: Int
    /// Their lines added up.
    public var lines: LineCounts
}

/// Lines of code, comments and blanks across a tree, per file and per language.
public struct LineReport: Sendable, Codable, Equatable {
    /// The root as given.
    public var root: String
    /// One row per language, most code lines first (ties by name).
    public var languages: [LanguageLineCounts]
    /// One row per counted file, by path (byte order).
    public var files: [FileLineCounts]
    /// All counted files together.
    public var totals: LineCounts
    /// How many files were counted.
    public var fileCount: Int
    /// Files discovered but not counted: binary, too large or unreadable, by path.
    public var skippedFiles: [String]

    /// Counts every text file that `FileDiscovery` finds under `root` (honouring ignore rules).
    /// Throws only when the root is missing, not a folder or unreadable.
    public static func make(root: String, options: DiscoveryOptions = .init()) throws(CodeSageError) -> LineReport {
        var files: [FileLineCounts] = []
        var skipped: [String] = []
        for file in try SourceFiles.discover(root: root, options: options) {
            guard let source = SourceFiles.load(file, root: root, options: options) else {
                skipped.append(file.relativePath)
                continue
            }
            files.append(FileLineCounts(path: source.path, language: source.language,
                                        lines: LineCounter.count(source.text, language: source.language)))
        }
        return make(root: root, files: files, skippedFiles: skipped)
    }

    /// Builds a report from per-file counts (in the order given).
    public static func make(root: String, files: [FileLineCounts], skippedFiles: [String] = []) -> LineReport {
        var byLanguage: [String: LanguageLineCounts] = [:]
        var totals = LineCounts()
        for file in files {
            totals += file.lines
            let key = file.language?.rawValue ?? ""
            var row = byLanguage[key] ?? LanguageLineCounts(language: file.language, files: 0, lines: LineCounts())
            row.files += 1
            row.lines += file.lines
            byLanguage[key] = row
        }
        let languages = byLanguage.values.sorted {
            ($0.lines.code, $1.language?.rawValue ?? "") > ($1.lines.code, $0.language?.rawValue ?? "")
        }
        return LineReport(root: root, languages: languages, files: files, totals: totals,
                          fileCount: files.count, skippedFiles: skippedFiles)
    }
}
