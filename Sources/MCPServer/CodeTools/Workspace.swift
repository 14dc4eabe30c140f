import CodeSageCore
import Dispatch
import Foundation
import Indexing
import Platform
import Search

/// What the code tools share: the configuration, the model (loaded on first use), and one
/// search engine per indexed root, reopened when a newer generation is published.
public final class Workspace: @unchecked Sendable {
    public let configuration: Configuration
    private let loadEmbedder: @Sendable () throws(CodeSageError) -> any TextEmbedder
    private let lock = NSLock()
    private var embedder: (any TextEmbedder)?
    private var engines: [String: SearchEngine] = [:]

    /// A workspace whose model comes from `loadEmbedder` (called once, on first use).
    public init(configuration: Configuration, loadEmbedder: @escaping @Sendable () throws(CodeSageError) -> any TextEmbedder) {
        self.configuration = configuration
        self.loadEmbedder = loadEmbedder
    }

    /// The model, loading it on first use.
    public func model() throws(CodeSageError) -> any TextEmbedder {
        lock.lock()
        defer { lock.unlock() }
        if let embedder { return embedder }
        let loaded = try loadEmbedder()
        embedder = loaded
        return loaded
    }

    /// Whether the model has been loaded.
    public var modelLoaded: Bool {
        lock.lock()
        defer { lock.unlock() }
        return embedder != nil
    }

    /// The layout of the repository at `path` (resolved; must be a folder).
    public func layout(root path: String) throws(CodeSageError) -> IndexLayout {
        let resolved: String
        do {
            resolved = try FileSystem.realPath(resolving: path)
        } catch {
            throw CodeSageError(error.code == .notFound ? .notFound : .invalidArgument, "argument \"path\": \(path) does not exist")
        }
        guard (try? FileSystem.status(of: resolved, followingLinks: true))?.kind == .directory else {
            throw CodeSageError(.invalidArgument, "argument \"path\": \(path) is not a folder")
        }
        return IndexLayout(root: resolved, indexDirectory: configuration.indexDirectory)
    }

    /// The search engine of an indexed root, on its newest published generation.
    public func engine(root path: String) throws(CodeSageError) -> SearchEngine {
        let layout = try layout(root: path)
        let model = try model()
        lock.lock()
        let cached = engines[layout.root]
        lock.unlock()
        if let cached, cached.snapshot.isCurrent() { return cached }
        let snapshot = try IndexSnapshot.open(layout: layout, memoryMap: configuration.memoryMappedIndexes)
        guard snapshot.manifest.model.identity == model.identity else {
            throw CodeSageError(.invalidConfiguration,
                "\(layout.root) was indexed with \(snapshot.manifest.model.identity), this server runs \(model.identity); run index_codebase again")
        }
        let engine = SearchEngine(snapshot: snapshot, embedder: model)
        lock.lock()
        engines[layout.root] = engine
        lock.unlock()
        return engine
    }

    /// Unloads the model (it is loaded again on the next call that needs it); returns whether one was loaded.
    @discardableResult
    public func unloadModel() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let loaded = embedder != nil
        embedder = nil
        return loaded
    }

    /// The model when it is loaded (nil otherwise); never loads it.
    public var loadedModel: (any TextEmbedder)? {
        lock.lock()
        defer { lock.unlock() }
        return embedder
    }

    /// The open search engines, by root.
    public var openEngines: [String: SearchEngine] {
        lock.lock()
        defer { lock.unlock() }
        return engines
    }

    /// Forgets every open snapshot (they are reopened on the next search); returns how many there were.
    @discardableResult
    public func closeSnapshots() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let count = engines.count
        engines.removeAll()
        return count
    }

    /// Resolves `file` (relative to the root, or absolute inside it) to an absolute path inside
    /// the root; refuses `..` that leaves it, absolute paths elsewhere and links that escape.
    public static func resolve(file: String, in layout: IndexLayout) throws(CodeSageError) -> (absolute: String, relative: String) {
        guard !file.isEmpty, !file.contains("\u{0}") else { throw CodeSageError(.invalidArgument, "argument \"file\" is empty or not a path") }
        let joined = file.hasPrefix("/") ? file : layout.root + "/" + file
        let resolved: String
        do {
            resolved = try FileSystem.realPath(resolving: joined)
        } catch {
            throw CodeSageError(.notFound, "argument \"file\": \(file) does not exist in \(layout.root)")
        }
        guard resolved.hasPrefix(layout.root + "/") else {
            throw CodeSageError(.invalidArgument, "argument \"file\": \(file) is outside the indexed root \(layout.root); refused")
        }
        return (resolved, String(resolved.dropFirst(layout.root.count + 1)))
    }
}

/// Runs blocking work (model, FAISS, SQLite, file reads) on a Dispatch thread, off Swift's
/// cooperative pool, so that a slow tool never starves the transports.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}
