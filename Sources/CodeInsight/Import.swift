import SourceModel

/// Where an imported module comes from.
public enum ImportOrigin: String, Sendable, Codable, Equatable {
    /// The language's standard library (also OS and SDK headers/frameworks for C, C++ and Swift).
    case standard
    /// A third-party package.
    case external
    /// A module of the project itself: a relative import, or a package/module/target/header found under the root.
    case `internal`
}

/// One import statement (or one module of a statement that names several).
public struct Import: Sendable, Codable, Equatable, Hashable {
    /// The module as written: "os.path", ".models", "Foundation", "github.com/a/b/c", "@scope/pkg/sub",
    /// "std::collections" (the path before `{` or the last item), "java.util.List", "stdio.h".
    public var module: String
    /// The unit it belongs to: Python's top-level module, the npm package ("@scope/pkg"), the Go module
    /// (best guess from the path), the Rust crate, Swift's module, Java's first three package names,
    /// the C/C++ header or its first folder.
    public var package: String
    /// Standard library, external package or internal module.
    public var origin: ImportOrigin
    /// The 1-based line where the statement starts.
    public var line: Int

    /// Creates an import from its parts.
    public init(module: String, package: String, origin: ImportOrigin, line: Int) {
        self.module = module
        self.package = package
        self.origin = origin
        self.line = line
    }
}
