import CodeSageCore
import SourceModel

/// The imports of one file.
public struct FileImports: Sendable, Codable, Equatable {
    /// "/"-separated, relative to the root.
    public var path: String
    /// The file's language.
    public var language: Language?
    /// Its imports in source order.
    public var imports: [Import]
}

/// One package (or standard module) and where it is imported.
public struct PackageUsage: Sendable, Codable, Equatable {
    /// The package name, as in `Import.package`.
    public var name: String
    /// The language whose files import it.
    public var language: Language
    /// How many import statements name it.
    public var importCount: Int
    /// The files that import it, by path.
    public var files: [String]
}

/// The imports of a tree: per file, and the external packages and standard modules they use.
public struct DependencyReport: Sendable, Codable, Equatable {
    /// The root as given.
    public var root: String
    /// Files with at least one import, by path.
    public var files: [FileImports]
    /// Third-party packages, most files first (then most imports, language, name).
    public var externalPackages: [PackageUsage]
    /// Standard-library modules, in the same order.
    public var standardModules: [PackageUsage]
    /// How many imports are internal.
    public var internalImportCount: Int
    /// How many files of an import-aware language were read.
    public var scannedFileCount: Int

    /// Scans every text file under `root` that `FileDiscovery` finds. Throws only when the root cannot be walked.
    public static func make(root: String, options: DiscoveryOptions = .init()) throws(CodeSageError) -> DependencyReport {
        let discovered = try SourceFiles.discover(root: root, options: options)
        let context = DependencyContext.make(root: root, files: discovered, options: options)
        let aware: Set<Language> = [.python, .swift, .go, .rust, .javascript, .typescript, .java, .c, .cpp]
        var files: [FileImports] = []
        var scanned = 0
        for file in discovered where file.language.map(aware.contains) ?? true {
            guard let source = SourceFiles.load(file, root: root, options: options),
                  let language = source.language, aware.contains(language) else { continue }
            scanned += 1
            let imports = DependencyScanner.imports(in: source.text, language: language, context: context)
            if !imports.isEmpty { files.append(FileImports(path: source.path, language: language, imports: imports)) }
        }
        return make(root: root, files: files, scannedFileCount: scanned)
    }

    /// Builds a report from per-file imports.
    public static func make(root: String, files: [FileImports], scannedFileCount: Int) -> DependencyReport {
        var usages: [String: (ImportOrigin, PackageUsage)] = [:]
        var internalCount = 0
        for file in files {
            guard let language = file.language else { continue }
            for item in file.imports {
                if item.origin == .internal { internalCount += 1; continue }
                let key = "\(item.origin.rawValue)\u{0}\(language.rawValue)\u{0}\(item.package)"
                var usage = usages[key]?.1 ?? PackageUsage(name: item.package, language: language, importCount: 0, files: [])
                usage.importCount += 1
                if usage.files.last != file.path { usage.files.append(file.path) }
                usages[key] = (item.origin, usage)
            }
        }
        func ordered(_ origin: ImportOrigin) -> [PackageUsage] {
            usages.values.filter { $0.0 == origin }.map(\.1).sorted {
                if $0.files.count != $1.files.count { return $0.files.count > $1.files.count }
                if $0.importCount != $1.importCount { return $0.importCount > $1.importCount }
                return ($0.language.rawValue, $0.name) < ($1.language.rawValue, $1.name)
            }
        }
        return DependencyReport(root: root, files: files, externalPackages: ordered(.external), standardModules: ordered(.standard),
                                internalImportCount: internalCount, scannedFileCount: scannedFileCount)
    }
}
