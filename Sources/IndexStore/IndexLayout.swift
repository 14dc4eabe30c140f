import CodeSageCore

/// Where the files of one root's index live.
///
/// ```
/// <index dir>/manifest.json        the published generation (swapped atomically)
/// <index dir>/store.sqlite         files, chunks, FTS5 terms, embedding cache (WAL)
/// <index dir>/vectors-<G>.faiss    the FAISS IVF index built at generation G (the base)
/// <index dir>/delta-<G>.vec        what generation G added to its base and retired from it
/// <index dir>/index.lock           held by the one index run allowed at a time
/// ```
public struct IndexLayout: Sendable, Equatable {
    /// The repository root (absolute, no trailing slash).
    public let root: String
    /// The index folder.
    public let directory: String

    /// The layout for `root`; the index folder is `<root>/.codesage` unless `indexDirectory` is given.
    public init(root: String, indexDirectory: String? = nil) {
        var root = root
        while root.count > 1, root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.directory = indexDirectory ?? (root == "/" ? "/.codesage" : root + "/.codesage")
    }

    public var manifestPath: String { directory + "/manifest.json" }
    public var storePath: String { directory + "/store.sqlite" }
    public var lockPath: String { directory + "/index.lock" }

    /// The FAISS file name (relative to the folder) of generation `generation`.
    public static func vectorFileName(generation: Int64) -> String { "vectors-\(generation).faiss" }

    /// The delta segment file name (relative to the folder) of generation `generation`.
    public static func deltaFileName(generation: Int64) -> String { "delta-\(generation).vec" }

    /// The absolute path of a file named in the manifest.
    public func path(of fileName: String) -> String { directory + "/" + fileName }
}
