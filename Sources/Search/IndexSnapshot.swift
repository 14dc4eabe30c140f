import CodeSageCore
import IndexStore
import SourceModel
import Platform
import Foundation
import VectorIndex

/// One published generation of an index, opened for reading: its manifest, its FAISS file
/// (memory-mapped when the policy says so) and a connection to the store.
///
/// A snapshot keeps answering from its generation while a newer one is being built or published;
/// open a new snapshot to see the newer one (`isCurrent` says when that is due).
public final class IndexSnapshot: @unchecked Sendable {
    public let layout: IndexLayout
    public let manifest: IndexManifest
    /// The base vector index; nil when the generation has no chunks.
    public let vectors: FaissIndex?
    /// What searches use: the base minus the delta's tombstones, plus the delta segment; nil without vectors.
    public let segments: SegmentedVectors?
    private let store: IndexStore
    private let storeLock = NSLock()

    /// Indexes larger than this are memory-mapped under the `auto` policy.
    public static let autoMapThreshold = 100 << 20

    /// Opens the published generation of `layout`; `.notFound` when the root was never indexed. With
    /// `previous` (an older snapshot of the same root) whose base file the new generation still uses, its
    /// FAISS index is shared instead of read again: an update that only wrote a delta segment costs a
    /// reader the segment, not the base (whose mapped pages stay mapped).
    public static func open(layout: IndexLayout, memoryMap: MemoryMapPolicy = .auto,
                            reusing previous: IndexSnapshot? = nil) throws(CodeSageError) -> IndexSnapshot {
        guard let manifest = try IndexManifest.read(path: layout.manifestPath) else {
            throw CodeSageError(.notFound, "\(layout.root) has no index yet; run `codesage index \(layout.root)` first")
        }
        var vectors: FaissIndex?
        if let info = manifest.vectors {
            if let previous, previous.layout == layout, let kept = previous.vectors, previous.manifest.vectors == info {
                vectors = kept
            } else {
                let path = layout.path(of: info.file)
                let mapped: Bool
                switch memoryMap {
                case .true: mapped = true
                case .false: mapped = false
                case .auto: mapped = info.bytes > autoMapThreshold
                }
                let index = try FaissIndex.read(path: path, memoryMapped: mapped)
                try index.setProbeCount(info.nprobe)
                vectors = index
            }
        }
        var delta: DeltaSegment?
        if let info = manifest.delta {
            let segment = try DeltaSegment(path: layout.path(of: info.file), dimension: vectors?.dimension ?? manifest.model.dimension)
            if let mismatch = IndexManifest.mismatch(segment, info) {
                throw CodeSageError(.corruptData, "\(mismatch); rebuild with `codesage index --rebuild \(layout.root)`")
            }
            delta = segment
        }
        let segments = vectors == nil && delta == nil ? nil : try SegmentedVectors(base: vectors, delta: delta)
        // A missing store would be created empty and every search would quietly find nothing.
        guard FileSystem.exists(layout.storePath) else {
            throw CodeSageError(.corruptData, "\(layout.storePath) is missing; rebuild with `codesage index --rebuild \(layout.root)`")
        }
        let store = try IndexStore(path: layout.storePath)
        return IndexSnapshot(layout: layout, manifest: manifest, vectors: vectors, segments: segments, store: store)
    }

    private init(layout: IndexLayout, manifest: IndexManifest, vectors: FaissIndex?, segments: SegmentedVectors?, store: IndexStore) {
        self.layout = layout
        self.manifest = manifest
        self.vectors = vectors
        self.segments = segments
        self.store = store
    }

    /// The generation this snapshot answers from.
    public var generation: Int64 { manifest.generation }

    /// Whether the published manifest still names this snapshot's generation.
    public func isCurrent() -> Bool {
        ((try? IndexManifest.read(path: layout.manifestPath))??.generation) == generation
    }

    /// Refuses to answer with a model other than the one this generation was embedded with: its
    /// vectors would be compared with vectors of another space.
    public func requireModel(_ identity: String) throws(CodeSageError) {
        guard manifest.model.identity == identity else {
            throw CodeSageError(.invalidConfiguration,
                "\(layout.root) was indexed with \(manifest.model.identity), this server runs \(identity); index it again (index_codebase or `codesage index`)")
        }
    }

    /// Runs `body` with the store connection (one caller at a time).
    public func withStore<T>(_ body: (IndexStore) throws(CodeSageError) -> T) throws(CodeSageError) -> T {
        storeLock.lock()
        defer { storeLock.unlock() }
        return try body(store)
    }
}
