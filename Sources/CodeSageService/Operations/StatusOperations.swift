import CodeSageCore
import Foundation
import IndexStore

/// How current the index of each served root is: what get_index_status answers.
public struct IndexStatusReport: Answer {
    /// One root.
    public struct Root: Sendable, Encodable {
        public var root: String
        /// Whether the root has a published index.
        public var indexed: Bool
        public var generation: Int64?
        public var publishedAt: String?
        public var files: Int?
        public var chunks: Int?
        /// Chunks with a vector in the published generation.
        public var embeddedChunks: Int?
        /// embedded_chunks / chunks (1 for an empty index): below 1, a semantic miss may be an unembedded file.
        public var semanticCoverage: Double?
        /// The watcher of this root; nil when this process does not watch it.
        public var watcher: RootWatcher.Status?
    }

    /// Whether this process watches the roots it serves (CODESAGE_WATCH, and it is the writing process).
    public var watching: Bool
    public var roots: [Root]

    /// A line per root: generation, counts, coverage, and how the watcher stands.
    public var text: String {
        guard !roots.isEmpty else {
            return "no root served yet" + (watching ? "; roots are watched once searched or indexed" : "; watching is off")
        }
        return roots.map { root in
            var line = root.root + ": "
            if root.indexed, let generation = root.generation {
                line += "generation \(generation) (\(root.publishedAt ?? "?")), \(root.files ?? 0) files, \(root.chunks ?? 0) chunks, "
                    + String(format: "semantic coverage %.1f%%", (root.semanticCoverage ?? 0) * 100)
                if let embedded = root.embeddedChunks, let chunks = root.chunks, embedded < chunks {
                    line += " (\(chunks - embedded) chunks still being embedded: keyword search covers them, semantic search not yet)"
                }
            } else {
                line += "not indexed"
            }
            if let w = root.watcher {
                line += "; watcher \(w.mode.rawValue)"
                if w.mode == .watching { line += " (\(w.folders) folders)" }
                if let reason = w.fallbackReason { line += ": \(reason)" }
                line += ", \(w.pendingChanges) pending changes, \(w.updates) updates" + (w.updating ? ", updating now" : "")
                if let seconds = w.lastUpdateSeconds { line += String(format: ", last %.2f s", seconds) }
                if let error = w.lastError { line += ", last failed: \(error)" }
            } else {
                line += "; not watched by this process"
            }
            return line
        }.joined(separator: "\n")
    }
}

extension Workspace {
    /// The status of `root` (which must be indexed), or of every root this process serves (watched or open) when nil.
    public func indexStatus(root path: String?) throws(CodeSageError) -> IndexStatusReport {
        let watchers = self.watchers
        let layouts: [IndexLayout]
        if let path {
            // Like every tool that reads a root: only an indexed one (a folder never indexed is not described).
            layouts = [try indexedLayout(root: path, tool: "get_index_status")]
        } else {
            let roots = Set(watchers.keys).union(openEngines.keys).sorted()
            layouts = roots.map { IndexLayout(root: $0, indexDirectory: configuration.indexDirectory) }
        }
        let roots = layouts.map { layout -> IndexStatusReport.Root in
            var root = IndexStatusReport.Root(root: layout.root, indexed: false, watcher: watchers[layout.root]?.current)
            if let manifest = try? IndexManifest.read(path: layout.manifestPath) {
                root.indexed = true
                root.generation = manifest.generation
                root.publishedAt = manifest.publishedAt
                root.files = manifest.files
                root.chunks = manifest.chunks
                root.embeddedChunks = manifest.chunks - manifest.pendingChunks
                root.semanticCoverage = manifest.semanticCoverage
            }
            return root
        }
        return IndexStatusReport(watching: isWatching, roots: roots)
    }
}
