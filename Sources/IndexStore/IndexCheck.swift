import CodeSageCore
import Platform
import VectorIndex

/// Verifies the published generation of an index without changing anything: the manifest parses, the
/// store passes SQLite's integrity check and holds the files and chunks the manifest counts, and the FAISS
/// file opens (its inverted lists inside the file) with one vector per chunk.
public enum IndexCheck {
    /// What the check found; `problems` names the damaged file in each entry.
    public struct Report: Sendable, Encodable {
        public var root: String
        public var generation: Int64
        public var files: Int
        public var chunks: Int
        /// Vectors in the FAISS file; nil when the generation has none.
        public var vectors: Int?
        public var problems: [String] = []
        public var sound: Bool { problems.isEmpty }

        enum CodingKeys: String, CodingKey { case root, generation, files, chunks, vectors, problems, sound }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(root, forKey: .root)
            try c.encode(generation, forKey: .generation)
            try c.encode(files, forKey: .files)
            try c.encode(chunks, forKey: .chunks)
            try c.encode(vectors, forKey: .vectors)
            try c.encode(problems, forKey: .problems)
            try c.encode(sound, forKey: .sound)
        }
    }

    /// Checks `layout`'s published generation; `.notFound` when the root has never been indexed. A manifest
    /// that cannot be read is thrown (nothing else can be checked without it); other damage is reported.
    public static func run(layout: IndexLayout) throws(CodeSageError) -> Report {
        guard let manifest = try IndexManifest.read(path: layout.manifestPath) else {
            throw CodeSageError(.notFound, "\(layout.root) has no index (no \(layout.manifestPath))")
        }
        var report = Report(root: layout.root, generation: manifest.generation, files: manifest.files, chunks: manifest.chunks)
        do {
            let store = try IndexStore(readingExisting: layout.storePath)
            let findings = try store.integrityProblems()
            report.problems += findings.map { "\(layout.storePath): integrity check: \($0)" }
            if findings.isEmpty {
                let counts = try store.counts(at: manifest.generation)
                if counts.files != manifest.files || counts.chunks != manifest.chunks {
                    report.problems.append("\(layout.storePath): generation \(manifest.generation) has \(counts.files) files and \(counts.chunks) chunks; the manifest says \(manifest.files) and \(manifest.chunks)")
                }
            }
        } catch where error.code == .io || error.code == .busy {
            throw error  // a full disk or a lock says nothing about the index: not a finding, an error (74, 75)
        } catch {
            report.problems.append(error.message.contains(layout.storePath) ? error.message : "\(layout.storePath): \(error.message)")
        }
        if let info = manifest.vectors {
            let path = layout.path(of: info.file)
            do {
                let index = try FaissIndex.read(path: path, memoryMapped: true)
                let searchable = index.count - (manifest.delta?.tombstones ?? 0) + (manifest.delta?.count ?? 0)
                report.vectors = searchable
                if searchable + manifest.pendingChunks != manifest.chunks || index.count != info.count {
                    let delta = manifest.delta.map { " (less \($0.tombstones) tombstones, plus \($0.count) delta vectors and \($0.pending) pending)" } ?? ""
                    report.problems.append("\(path): \(index.count) vectors\(delta); the manifest counts \(info.count) vectors for \(manifest.chunks) chunks")
                }
                // Damage inside the vectors (flipped bytes) leaves the structure valid: the digest catches it.
                if let expected = info.sha256 {
                    let actual = ContentHash.hex(try ContentHash.ofFile(path))
                    if actual != expected { report.problems.append("\(path): SHA-256 \(actual) differs from the manifest's \(expected): the file was damaged") }
                }
            } catch {
                report.problems.append(error.message.contains(path) ? error.message : "\(path): \(error.message)")
            }
        }
        if let info = manifest.delta {
            let path = layout.path(of: info.file)
            do {
                let segment = try DeltaSegment(path: path, dimension: manifest.model.dimension)
                if let mismatch = IndexManifest.mismatch(segment, info) { report.problems.append(mismatch) }
                if manifest.vectors == nil, segment.count + segment.pending.count != manifest.chunks {
                    report.problems.append("\(path): \(segment.count) vectors and \(segment.pending.count) pending; the manifest counts \(manifest.chunks) chunks")
                }
                let actual = ContentHash.hex(try ContentHash.ofFile(path))
                if actual != info.sha256 { report.problems.append("\(path): SHA-256 \(actual) differs from the manifest's \(info.sha256): the file was damaged") }
            } catch {
                report.problems.append(error.message.contains(path) ? error.message : "\(path): \(error.message)")
            }
        }
        if manifest.vectors == nil, manifest.delta == nil, manifest.chunks > 0 {
            report.problems.append("\(layout.manifestPath): \(manifest.chunks) chunks but no vector index")
        }
        return report
    }
}
