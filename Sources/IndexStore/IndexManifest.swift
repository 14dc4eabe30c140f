import CodeSageCore
import Foundation
import Platform
import VectorIndex

/// The published state of an index: which generation, which files, how it was built.
///
/// Written last by an index run (temporary name, fsync, rename), so readers either see the
/// previous generation or the new one, never a mix.
public struct IndexManifest: Codable, Sendable, Equatable {
    /// Layout version of this file and of the index folder.
    public var formatVersion: Int
    /// The generation: rows of the store visible at it, and `vectors.file`.
    public var generation: Int64
    /// When the generation was published (ISO 8601, UTC).
    public var publishedAt: String
    /// The indexed root (absolute).
    public var root: String
    /// The model whose vectors are in the index.
    public var model: ModelInfo
    /// Files and chunks visible in the generation.
    public var files: Int
    public var chunks: Int
    /// The vector index; nil when there is nothing to search (no chunks).
    public var vectors: VectorIndexInfo?
    /// What changed since `vectors` was built (new vectors, retired ids); nil right after a full build.
    public var delta: DeltaInfo?

    public init(formatVersion: Int = IndexManifest.currentFormat, generation: Int64, publishedAt: String, root: String,
                model: ModelInfo, files: Int, chunks: Int, vectors: VectorIndexInfo?) {
        self.formatVersion = formatVersion
        self.generation = generation
        self.publishedAt = publishedAt
        self.root = root
        self.model = model
        self.files = files
        self.chunks = chunks
        self.vectors = vectors
    }

    /// The embedding model of an index.
    public struct ModelInfo: Codable, Sendable, Equatable {
        /// Identity used in embedding-cache keys (name, precision, weights digest).
        public var identity: String
        public var dimension: Int
        public var quantized: Bool

        public init(identity: String, dimension: Int, quantized: Bool) {
            self.identity = identity
            self.dimension = dimension
            self.quantized = quantized
        }
    }

    /// How the FAISS file was built and what recall it measured.
    public struct VectorIndexInfo: Codable, Sendable, Equatable {
        /// File name inside the index folder.
        public var file: String
        /// FAISS index_factory description, e.g. "IVF1,Flat" or "IVF256,SQ8".
        public var factory: String
        public var nlist: Int
        public var nprobe: Int
        public var count: Int
        /// Size of the FAISS file in bytes.
        public var bytes: Int
        /// Whether the index returns exactly the inner-product top k (IVF1 with flat codes).
        public var exact: Bool
        /// Recall@10 against exact search, measured at build time on `recallSample` stored vectors.
        public var recallAt10: Double
        public var recallSample: Int
        /// Why this index type was chosen.
        public var reason: String
        /// SHA-256 of the FAISS file (lower-case hex), for `codesage check`; nil in manifests written before it.
        public var sha256: String?

        public init(file: String, factory: String, nlist: Int, nprobe: Int, count: Int, bytes: Int, exact: Bool,
                    recallAt10: Double, recallSample: Int, reason: String) {
            self.file = file
            self.factory = factory
            self.nlist = nlist
            self.nprobe = nprobe
            self.count = count
            self.bytes = bytes
            self.exact = exact
            self.recallAt10 = recallAt10
            self.recallSample = recallSample
            self.reason = reason
        }
    }

    /// The delta segment of a generation: vectors added since the base FAISS file, and base ids retired.
    public struct DeltaInfo: Codable, Sendable, Equatable {
        /// File name inside the index folder (`delta-<G>.vec`).
        public var file: String
        /// Vectors in the segment.
        public var count: Int
        /// Base ids left out of searches.
        public var tombstones: Int
        /// Visible chunks not embedded yet (a cold index publishes its lexical part first).
        public var pending: Int
        /// Size of the file in bytes.
        public var bytes: Int
        /// SHA-256 of the file (lower-case hex), for `codesage check`.
        public var sha256: String

        public init(file: String, count: Int, tombstones: Int, pending: Int, bytes: Int, sha256: String) {
            self.file = file
            self.count = count
            self.tombstones = tombstones
            self.pending = pending
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    /// Why `segment` is not the one `delta` describes (its counts differ), or nil when it is.
    public static func mismatch(_ segment: DeltaSegment, _ delta: DeltaInfo) -> String? {
        guard segment.count != delta.count || segment.tombstones.count != delta.tombstones || segment.pending.count != delta.pending else { return nil }
        return "\(segment.path) holds \(segment.count) vectors, \(segment.tombstones.count) tombstones and \(segment.pending.count) pending; the manifest says \(delta.count), \(delta.tombstones) and \(delta.pending)"
    }

    /// Chunks a semantic search can return: the base's vectors minus tombstones, plus the delta's.
    public var searchableChunks: Int { (vectors?.count ?? 0) - (delta?.tombstones ?? 0) + (delta?.count ?? 0) }

    /// Visible chunks still waiting for their vectors.
    public var pendingChunks: Int { delta?.pending ?? 0 }

    /// Share of the chunks that semantic search covers (1 for an empty index).
    public var semanticCoverage: Double { chunks == 0 ? 1 : Double(chunks - pendingChunks) / Double(chunks) }

    /// `formatVersion` of a manifest without a delta segment (what every earlier build wrote and reads).
    public static let currentFormat = 1
    /// `formatVersion` of a manifest with a delta segment: builds that do not know segments refuse it
    /// instead of searching the base alone (which would return retired chunks and miss new ones).
    public static let deltaFormat = 2

    /// Reads the manifest at `path`; nil when there is none, `.corruptData` when it cannot be parsed.
    public static func read(path: String) throws(CodeSageError) -> IndexManifest? {
        guard FileSystem.exists(path) else { return nil }
        let bytes = try FileSystem.readFile(path)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let manifest: IndexManifest
        do {
            manifest = try decoder.decode(IndexManifest.self, from: Data(bytes))
        } catch {
            throw CodeSageError(.corruptData, "\(path) is not a valid index manifest (\(error)); rebuild with `codesage index --rebuild`")
        }
        guard manifest.formatVersion == currentFormat || manifest.formatVersion == deltaFormat else {
            throw CodeSageError(.corruptData, "\(path): index format \(manifest.formatVersion) is not \(currentFormat) or \(deltaFormat); rebuild with `codesage index --rebuild`")
        }
        return manifest
    }

    /// Writes the manifest durably (temporary name, fsync, rename, fsync of the folder).
    public func write(to path: String) throws(CodeSageError) {
        try FileSystem.writeDurably(Array(jsonData()), to: path)
    }

    /// Pretty, key-sorted JSON with snake_case keys.
    public func jsonData() -> Data { Data(JSONOutput.text(self).utf8) }

    /// Now, as ISO 8601 UTC.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
