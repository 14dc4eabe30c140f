import CodeSageCore
import Foundation
import SourceModel

/// What a project defines itself, so that imports of its own modules are classified as internal.
public struct DependencyContext: Sendable, Equatable {
    /// Python top-level modules and packages found under the root (a package: a folder with
    /// `__init__.py` whose parent has none; a module: a file in a folder without `__init__.py`).
    public var pythonModules: Set<String>
    /// Go module paths from every `go.mod`.
    public var goModules: Set<String>
    /// Swift modules: the folders directly under any `Sources/` or `Tests/` folder.
    public var swiftModules: Set<String>
    /// Rust crate names from `Cargo.toml` (`-` as `_`), `.rs` file stems and folders holding `.rs` files.
    public var rustModules: Set<String>
    /// Package names from `package.json` files.
    public var javaScriptPackages: Set<String>
    /// Every trailing part of the folders holding `.java` files ("com/acme/util", "acme/util", …).
    public var javaPackageFolders: Set<String>
    /// Every trailing part of the paths of C/C++ headers ("include/lib/a.h", "lib/a.h", "a.h").
    public var headerPaths: Set<String>

    /// Creates a context; every set defaults to empty (nothing is known to be internal).
    public init(pythonModules: Set<String> = [], goModules: Set<String> = [], swiftModules: Set<String> = [],
                rustModules: Set<String> = [], javaScriptPackages: Set<String> = [],
                javaPackageFolders: Set<String> = [], headerPaths: Set<String> = []) {
        self.pythonModules = pythonModules
        self.goModules = goModules
        self.swiftModules = swiftModules
        self.rustModules = rustModules
        self.javaScriptPackages = javaScriptPackages
        self.javaPackageFolders = javaPackageFolders
        self.headerPaths = headerPaths
    }

    /// The context of the tree under `root`: discovery plus a read of `go.mod`, `Cargo.toml` and
    /// `package.json` files. Throws only when the root cannot be walked.
    public static func make(root: String, options: DiscoveryOptions = .init()) throws(CodeSageError) -> DependencyContext {
        make(root: root, files: try SourceFiles.discover(root: root, options: options), options: options)
    }

    /// The context from already discovered files (manifests are read from `root`).
    static func make(root: String, files: [DiscoveredFile], options: DiscoveryOptions) -> DependencyContext {
        var context = DependencyContext()
        let paths = files.map(\.relativePath)
        var initFolders = Set<String>()
        for path in paths where path == "__init__.py" || path.hasSuffix("/__init__.py") {
            initFolders.insert(folder(of: path))
        }
        for path in paths {
            let parts = path.split(separator: "/").map(String.init)
            guard let name = parts.last else { continue }
            let dir = folder(of: path)
            let ext = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
            switch ext {
            case "py", "pyi":
                if !initFolders.contains(dir), name != "__init__.py" { context.pythonModules.insert(stem(name)) }
                if name == "__init__.py", let package = dir.split(separator: "/").last, !initFolders.contains(folder(of: dir)) {
                    context.pythonModules.insert(String(package))
                }
            case "rs":
                context.rustModules.insert(stem(name))
                if parts.count > 1 { context.rustModules.insert(parts[parts.count - 2]) }
            case "java":
                context.javaPackageFolders.formUnion(suffixes(parts.dropLast()))
            case "h", "hh", "hpp", "hxx", "inc", "ipp", "tcc":
                context.headerPaths.formUnion(suffixes(parts[...]))
            default:
                break
            }
            for (k, part) in parts.enumerated() where (part == "Sources" || part == "Tests") && k + 2 < parts.count {
                context.swiftModules.insert(parts[k + 1])
            }
            if name == "go.mod" || name == "Cargo.toml" || name == "package.json",
               case .text(let text, _)? = try? SourceText.load(path: SourceFiles.join(root, path), maxSize: options.maxFileSize, root: root) {
                switch name {
                case "go.mod": if let module = goModule(text) { context.goModules.insert(module) }
                case "Cargo.toml": context.rustModules.formUnion(cargoNames(text))
                default: if let package = packageName(text) { context.javaScriptPackages.insert(package) }
                }
            }
        }
        return context
    }

    /// The folder part of a relative path ("" at the root).
    private static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// A file name without its last extension.
    private static func stem(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// "a/b/c" → "a/b/c", "b/c", "c".
    private static func suffixes(_ parts: ArraySlice<String>) -> [String] {
        parts.indices.map { parts[$0...].joined(separator: "/") }
    }

    /// The `module` line of a go.mod.
    static func goModule(_ text: String) -> String? {
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("module ") || trimmed.hasPrefix("module\t") else { continue }
            var value = trimmed.dropFirst(6).trimmingCharacters(in: .whitespaces)
            if let comment = value.range(of: "//") { value = String(value[..<comment.lowerBound]).trimmingCharacters(in: .whitespaces) }
            value = value.trimmingCharacters(in: CharacterSet(charactersIn: "\"`"))
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// `name = "…"` in the `[package]` and `[lib]` tables of a Cargo.toml, with `-` as `_`.
    static func cargoNames(_ text: String) -> Set<String> {
        var names = Set<String>()
        var table = ""
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("[") { table = trimmed; continue }
            guard table == "[package]" || table == "[lib]", trimmed.hasPrefix("name") else { continue }
            let rest = trimmed.dropFirst(4).trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix("=") else { continue }
            let value = rest.dropFirst().trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            if !value.isEmpty { names.insert(value.replacingOccurrences(of: "-", with: "_")) }
        }
        return names
    }

    /// The top-level `name` of a package.json.
    static func packageName(_ text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object["name"] as? String
    }
}
