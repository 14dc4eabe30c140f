import IndexStore
import SourceModel
import CodeSageCore
import Foundation
import Platform
import VectorIndex

/// Settings of an index run (from the CODESAGE_* configuration).
public struct IndexOptions: Sendable {
    /// Files larger than this are skipped (CODESAGE_MAX_FILE_SIZE).
    public var maxFileSize: Int64 = 1 << 20
    public var compression: IndexCompression = .auto
    public var compressionType: IndexCompressionType = .auto
    /// Memory the vector index should fit in (CODESAGE_TARGET_MEMORY_MB).
    public var targetMemoryBytes: UInt64 = 512 << 20
    /// Re-read and re-chunk every file (cached vectors are still reused).
    public var rebuild = false
    /// Wait for another run's lock instead of failing with `.busy`.
    public var waitForLock = false
    /// Chunks embedded per model call.
    public var embeddingBatch = 256
    /// Delta vectors plus tombstones past which an update compacts into a new base (CODESAGE_INDEX_DELTA_LIMIT);
    /// nil: `DeltaPolicy.limit`; 0: no delta, every update builds a new base.
    public var deltaLimit: Int?

    public init() {}

    /// Options from a resolved configuration.
    public init(configuration: Configuration) {
        maxFileSize = Int64(clamping: configuration.maxFileSizeBytes)
        compression = configuration.indexCompression
        compressionType = configuration.indexCompressionType
        targetMemoryBytes = configuration.targetMemoryBytes
        deltaLimit = configuration.indexDeltaLimit
    }

    /// Whether the embedding cache stores vectors zstd-compressed.
    var compressesVectors: Bool { compression == .zstd || compression == .true }
}

/// What an index run did.
public struct IndexReport: Codable, Sendable, Equatable {
    /// Files and chunks in the published generation.
    public var files = 0
    public var chunks = 0
    /// Texts (chunk code and definition summaries) the model embedded in this run.
    public var embedded = 0
    /// Texts of new chunks whose vectors came from the embedding cache (unchanged text).
    public var reused = 0
    /// Files skipped without reading because size and modification time were unchanged.
    public var skipped = 0
    /// Files gone since the last generation.
    public var deleted = 0
    /// Files read and (re)chunked: new, or changed content.
    public var added = 0
    public var changed = 0
    /// Files whose time or size changed but whose content hash did not.
    public var touched = 0
    /// Paths left out by discovery (ignored, too large, links out of the root, loops, unreadable, special
    /// files) or when read (binary, vanished, changed type, grown too large, unreadable).
    public var excluded = 0
    /// The excluded paths with their reasons, the first `IndexReport.listedExclusions` of them.
    public var excludedPaths: [SkippedPath] = []
    /// Excluded paths beyond those listed.
    public var excludedNotListed = 0
    /// How many excluded paths each reason accounts for.
    public var excludedByReason: [String: Int] = [:]
    public var seconds = 0.0
    /// The FAISS factory string of the published index ("" when it holds no vectors).
    public var indexType = ""
    public var recallAt10: Double?
    /// The published generation (unchanged when nothing changed).
    public var generation: Int64 = 0
    /// Whether this run published a new generation.
    public var published = false
    /// How the vectors were published: "delta" (a segment over the kept base), "full" (a new base), or
    /// "" when nothing was published.
    public var vectorUpdate = ""
    /// Vectors in the published delta segment and base ids it retires (0 after a full build or compaction).
    public var deltaVectors = 0
    public var tombstones = 0
    /// Whether the delta passed its limit and was compacted into a new base (one more generation).
    public var compacted = false

    /// At most this many excluded paths are listed (a node_modules folder is one entry, but a tree can
    /// still hold many unreadable files).
    public static let listedExclusions = 1_000

    /// Records one excluded path.
    mutating func exclude(_ path: SkippedPath) {
        excluded += 1
        excludedByReason[path.reason.rawValue, default: 0] += 1
        if excludedPaths.count < Self.listedExclusions { excludedPaths.append(path) } else { excludedNotListed += 1 }
    }

    enum CodingKeys: String, CodingKey {
        case files, chunks, embedded, reused, skipped, deleted, added, changed, touched, excluded, excludedPaths, excludedNotListed
        case excludedByReason, seconds, indexType
        case recallAt10 = "recall_at_10"
        case generation, published, vectorUpdate, deltaVectors, tombstones, compacted
    }
}

/// A phase of an index run, for progress reporting.
public enum IndexPhase: String, Sendable {
    case discovering, reading, embedding, buildingVectors, publishing, compacting
}

/// Points in a run where a test may stop it, simulating a crash (nothing after runs).
public enum IndexCheckpoint: String, Sendable, CaseIterable {
    /// `afterVectorFileWritten`: a new base, or the delta segment of an update, is written but not published.
    case afterChunksWritten, afterFilesRetired, afterVectorFileWritten, afterManifestWritten
    /// During compaction (after the update's own generation is published): the new base is written; the
    /// compacted manifest is published.
    case afterCompactedBaseWritten, afterCompactionPublished
}

/// When an update stops appending to the delta segment and builds a new base.
public enum DeltaPolicy {
    /// Delta vectors plus tombstones allowed over a base of `baseCount` vectors: 5 % of the base, at least
    /// 1,000 (a small index is cheap to rebuild anyway) and at most 10,000 (the segment is rewritten by every
    /// update and searched exactly: 10,000 × 384 floats is 15 MB and ~1 ms per query).
    public static func limit(baseCount: Int) -> Int { min(10_000, max(1_000, baseCount / 20)) }
}

/// Builds or updates the index of one root: discover → chunk → embed → store → FAISS → publish.
///
/// A run holds `index.lock`, writes generation G+1 beside G (rows tagged in SQLite, a new FAISS
/// file), and publishes by renaming `manifest.json`; until then readers see G, and a crash
/// anywhere leaves G searchable (the next run discards what the crashed one wrote).
public final class Indexer: Sendable {
    public let layout: IndexLayout
    public let embedder: any TextEmbedder
    public let options: IndexOptions

    /// Lines of the chunk text budget kept for the header (path, symbol) the embedded text adds.
    static let headerTokenReserve = 24

    public init(layout: IndexLayout, embedder: any TextEmbedder, options: IndexOptions = IndexOptions()) {
        self.layout = layout
        self.embedder = embedder
        self.options = options
    }

    /// Runs once. `progress(phase, done, total)` is called from the calling thread; `discovered` gets the
    /// discovery walk (a watcher learns the folders to watch from it); `checkpoint` is for crash tests:
    /// throwing from it abandons the run at that point.
    public func run(progress: (IndexPhase, Int, Int) -> Void = { _, _, _ in },
                    discovered: (DiscoveryResult) -> Void = { _ in },
                    checkpoint: (IndexCheckpoint) throws(CodeSageError) -> Void = { _ throws(CodeSageError) in }) throws(CodeSageError) -> IndexReport {
        let started = ContinuousClock.now
        try FileSystem.makeFolders(layout.directory)
        let lock = try FileLock.acquire(layout.lockPath, wait: options.waitForLock)
        defer { lock.unlock() }

        removeTemporaryFiles()
        let previous = try readManifest()
        if let previous, previous.model.identity != embedder.identity {
            indexingLog.info("the model changed (\(previous.model.identity) → \(embedder.identity)); every file is re-embedded")
        }
        let store = try openStore()
        // Without a readable manifest (a damaged one set aside by --rebuild), everything in the store counts
        // as published: the run re-reads every file, retires every row it knows, and publishes past them.
        let manifestLost = previous == nil && FileSystem.exists(layout.manifestPath)
        let published: Int64
        if let previous { published = previous.generation } else { published = manifestLost ? try store.highestGeneration() : 0 }
        try store.discardUnpublished(after: published)
        removeUnpublishedVectorFiles(after: published)
        let next = published + 1
        var report = IndexReport()

        // Discover, and split into unchanged / touched / changed / new / deleted.
        progress(.discovering, 0, 0)
        var discoveryOptions = DiscoveryOptions()
        discoveryOptions.maxFileSize = options.maxFileSize
        discoveryOptions.excludedPaths.insert(layout.directory)
        let discovery = try FileDiscovery.discover(root: layout.root, options: discoveryOptions)
        discovered(discovery)
        let discovered = discovery
        for path in discovered.skipped { report.exclude(path) }
        let known = try store.files(at: published)
        let modelChanged = previous.map { $0.model.identity != embedder.identity } ?? false
        let rereadAll = options.rebuild || modelChanged

        var toRead: [DiscoveredFile] = []
        for file in discovered.files {
            if let old = known[file.relativePath], !rereadAll, old.size == file.size, old.modificationTime == file.modificationTime {
                report.skipped += 1
            } else {
                toRead.append(file)
            }
        }
        let present = Set(discovered.files.map(\.relativePath))
        let gone = known.values.filter { !present.contains($0.path) }

        // Read, hash and chunk what may have changed; embed and store it as generation `next`.
        var retired: [Int64] = gone.map(\.id)
        var touched: [(id: Int64, size: Int64, time: Int64)] = []
        var pending: [PendingFile] = []
        var pendingChunks = 0
        for (offset, file) in toRead.enumerated() {
            progress(.reading, offset, toRead.count)
            let loaded: SourceText.Loaded
            do {
                loaded = try SourceText.load(path: layout.root + "/" + file.relativePath, maxSize: options.maxFileSize, root: layout.root)
            } catch {
                let reason: SkipReason = switch error.code {
                case .notFound: .vanished
                case .invalidArgument: .changedType  // swapped for a link out of the root, a FIFO, a device
                default: .unreadable
                }
                indexingLog.warning("cannot read \(file.relativePath): \(error.message); left out")
                report.exclude(SkippedPath(relativePath: file.relativePath, reason: reason, detail: error.message))
                if let old = known[file.relativePath] { retired.append(old.id) }
                continue
            }
            guard case .text(let text, let bytes) = loaded else {
                indexingLog.info("\(file.relativePath) is \(loaded == .binary ? "binary" : "over the size limit") now; left out")
                report.exclude(SkippedPath(relativePath: file.relativePath, reason: loaded == .binary ? .binary : .tooLarge))
                if let old = known[file.relativePath] { retired.append(old.id) }
                continue
            }
            let hash = ContentHash.of(bytes)
            if let old = known[file.relativePath], !rereadAll, old.contentHash == hash {
                touched.append((old.id, file.size, file.modificationTime))
                report.touched += 1
                continue
            }
            if let old = known[file.relativePath] {
                retired.append(old.id)
                report.changed += 1
            } else {
                report.added += 1
            }
            let prepared = prepare(file: file, text: text, hash: hash)
            pendingChunks += prepared.chunks.count
            pending.append(prepared)
            if pendingChunks >= options.embeddingBatch * 4 {
                try write(&pending, to: store, generation: next, report: &report, progress: progress)
                pendingChunks = 0
            }
        }
        try write(&pending, to: store, generation: next, report: &report, progress: progress)
        report.deleted = gone.count
        try checkpoint(.afterChunksWritten)

        let nothingChanged = previous != nil && report.added == 0 && report.changed == 0 && retired.isEmpty
        if nothingChanged {
            // Only times changed (or nothing): record them; generation and vectors stay as they are.
            try store.database.transaction { () throws(CodeSageError) in
                for t in touched { try store.touchFile(id: t.id, size: t.size, modificationTime: t.time) }
            }
            report.files = previous!.files
            report.chunks = previous!.chunks
            report.generation = published
            report.indexType = previous!.vectors?.factory ?? ""
            report.recallAt10 = previous!.vectors?.recallAt10
            report.seconds = Self.seconds(since: started)
            return report
        }

        try store.database.transaction { () throws(CodeSageError) in
            for id in retired { try store.retireFile(id: id, generation: next) }
            for t in touched { try store.touchFile(id: t.id, size: t.size, modificationTime: t.time) }
        }
        try checkpoint(.afterFilesRetired)

        // Vectors of `next`: a delta segment over the published base when it can be kept, else a new base.
        progress(.buildingVectors, 0, 1)
        let counts = try store.counts(at: next)
        var vectorInfo: IndexManifest.VectorIndexInfo?
        var deltaInfo: IndexManifest.DeltaInfo?
        var compactionDue = false
        if !rereadAll, options.deltaLimit != 0, let previous, let update = try deltaUpdate(over: previous, generation: next, store: store, visibleChunks: counts.chunks) {
            vectorInfo = previous.vectors
            deltaInfo = update.info
            compactionDue = update.pastLimit
            report.vectorUpdate = "delta"
        } else {
            vectorInfo = try buildBase(store: store, visibleAt: next, fileGeneration: next)
            report.vectorUpdate = "full"
        }
        try checkpoint(.afterVectorFileWritten)

        // Publish.
        progress(.publishing, 0, 1)
        var manifest = IndexManifest(
            formatVersion: deltaInfo == nil ? IndexManifest.currentFormat : IndexManifest.deltaFormat, generation: next,
            publishedAt: IndexManifest.timestamp(), root: layout.root,
            model: .init(identity: embedder.identity, dimension: embedder.dimension, quantized: embedder.identity.contains("/int8/")),
            files: counts.files, chunks: counts.chunks, vectors: vectorInfo)
        manifest.delta = deltaInfo
        try manifest.write(to: layout.manifestPath)
        try checkpoint(.afterManifestWritten)
        retireOldGenerations(store: store, keepingRowsOf: published, published: previous, current: manifest)

        report.files = counts.files
        report.chunks = counts.chunks
        report.generation = next
        report.published = true
        report.indexType = vectorInfo?.factory ?? ""
        report.recallAt10 = vectorInfo?.recallAt10
        report.deltaVectors = deltaInfo?.count ?? 0
        report.tombstones = deltaInfo?.tombstones ?? 0

        // The update is searchable; folding a delta past its limit into a new base can take a while.
        if compactionDue {
            progress(.compacting, 0, 1)
            if let compacted = try compact(store: store, published: manifest, checkpoint: checkpoint) {
                report.generation = compacted.generation
                report.compacted = true
                report.deltaVectors = 0
                report.tombstones = 0
                report.recallAt10 = compacted.vectors?.recallAt10
                report.indexType = compacted.vectors?.factory ?? ""
            }
        }
        report.seconds = Self.seconds(since: started)
        return report
    }

    /// The delta segment of `generation` over `previous`'s base: the previous segment's vectors minus the chunks
    /// `generation` retired, plus those it added; retired base ids become tombstones. nil when the base cannot be
    /// kept (no base, no readable previous segment, counts that disagree), and a new base is built instead.
    func deltaUpdate(over previous: IndexManifest, generation: Int64, store: IndexStore,
                     visibleChunks: Int) throws(CodeSageError) -> (info: IndexManifest.DeltaInfo?, pastLimit: Bool)? {
        guard let base = previous.vectors, FileSystem.exists(layout.path(of: base.file)) else { return nil }
        let dimension = embedder.dimension
        var ids: [Int64] = []
        var matrix: [Float] = []
        var tombstones = Set<Int64>()
        if let info = previous.delta {
            do {
                let segment = try DeltaSegment(path: layout.path(of: info.file), dimension: dimension)
                ids = Array(segment.ids)
                matrix = Array(segment.vectors)
                tombstones = Set(segment.tombstones)
            } catch {
                indexingLog.warning("cannot read the delta segment (\(error.message)); building a new base instead")
                return nil
            }
        }
        let retired = Set(try store.chunkIDs(retiredIn: generation))
        if !retired.isEmpty {
            let inDelta = Set(ids)
            for id in retired where !inDelta.contains(id) { tombstones.insert(id) }
            var keptIDs: [Int64] = []
            var keptMatrix: [Float] = []
            keptIDs.reserveCapacity(ids.count)
            keptMatrix.reserveCapacity(matrix.count)
            for (row, id) in ids.enumerated() where !retired.contains(id) {
                keptIDs.append(id)
                keptMatrix.append(contentsOf: matrix[(row * dimension)..<((row + 1) * dimension)])
            }
            ids = keptIDs
            matrix = keptMatrix
        }
        let added = try store.vectors(addedIn: generation, dimension: dimension)
        ids += added.ids
        matrix += added.matrix
        guard base.count - tombstones.count + ids.count == visibleChunks else {
            indexingLog.warning("base (\(base.count)) − tombstones (\(tombstones.count)) + delta (\(ids.count)) ≠ \(visibleChunks) chunks; building a new base instead")
            return nil
        }
        let pastLimit = ids.count + tombstones.count > (options.deltaLimit ?? DeltaPolicy.limit(baseCount: base.count))
        guard !ids.isEmpty || !tombstones.isEmpty else { return (nil, false) }
        let fileName = IndexLayout.deltaFileName(generation: generation)
        let bytes = try DeltaSegment.encode(ids: ids, vectors: matrix, tombstones: Array(tombstones), dimension: dimension)
        try FileSystem.writeDurably(bytes, to: layout.path(of: fileName))
        let info = IndexManifest.DeltaInfo(file: fileName, count: ids.count, tombstones: tombstones.count, bytes: bytes.count,
                                           sha256: ContentHash.hex(ContentHash.of(bytes)))
        return (info, pastLimit)
    }

    /// Builds a base FAISS file of every vector visible at `generation`, named for `fileGeneration`; nil without vectors.
    func buildBase(store: IndexStore, visibleAt generation: Int64, fileGeneration: Int64) throws(CodeSageError) -> IndexManifest.VectorIndexInfo? {
        let (ids, matrix) = try store.vectors(at: generation, dimension: embedder.dimension)
        guard !ids.isEmpty else { return nil }
        let plan = VectorIndexPlan.choose(count: ids.count, dimension: embedder.dimension, compression: options.compression,
                                          type: options.compressionType, targetMemoryBytes: options.targetMemoryBytes)
        let fileName = IndexLayout.vectorFileName(generation: fileGeneration)
        let path = layout.path(of: fileName)
        let built = try VectorIndexBuilder.build(ids: ids, matrix: matrix, dimension: embedder.dimension, plan: plan, to: path)
        var info = IndexManifest.VectorIndexInfo(
            file: fileName, factory: plan.factory, nlist: plan.nlist, nprobe: built.nprobe, count: ids.count,
            bytes: Int((try? FileSystem.size(of: path)) ?? 0), exact: plan.isExact,
            recallAt10: built.recallAt10, recallSample: built.recallSample, reason: plan.reason)
        info.sha256 = ContentHash.hex(try ContentHash.ofFile(path))
        return info
    }

    /// Folds `published`'s delta into a new base and publishes it as the next generation (same rows, no
    /// delta). Crash-safe like any publication: until the manifest is renamed, `published` stays current.
    /// A failure of its own (a full disk) is logged and returns nil: the update itself is already published,
    /// and the next update tries again. Errors thrown by `checkpoint` (a test's simulated crash) propagate.
    func compact(store: IndexStore, published: IndexManifest,
                 checkpoint: (IndexCheckpoint) throws(CodeSageError) -> Void) throws(CodeSageError) -> IndexManifest? {
        let next = published.generation + 1
        var manifest = published
        do {
            manifest.vectors = try buildBase(store: store, visibleAt: published.generation, fileGeneration: next)
        } catch {
            indexingLog.warning("generation \(published.generation) is published, but compacting its delta failed (\(error.message)); the next update retries")
            return nil
        }
        try checkpoint(.afterCompactedBaseWritten)
        manifest.delta = nil
        manifest.formatVersion = IndexManifest.currentFormat
        manifest.generation = next
        manifest.publishedAt = IndexManifest.timestamp()
        do {
            try manifest.write(to: layout.manifestPath)
        } catch {
            indexingLog.warning("generation \(published.generation) is published, but publishing its compaction failed (\(error.message)); the next update retries")
            return nil
        }
        try checkpoint(.afterCompactionPublished)
        retireOldGenerations(store: store, keepingRowsOf: published.generation, published: published, current: manifest)
        return manifest
    }

    /// After `current` is published: readers of `published` (generation `kept`) may still be open, so its rows and files stay;
    /// older rows and files go. A failure here (a full disk) leaves garbage for the next run, not an error.
    func retireOldGenerations(store: IndexStore, keepingRowsOf kept: Int64, published: IndexManifest?, current: IndexManifest) {
        do {
            try store.collectGarbage(keeping: kept)
        } catch {
            indexingLog.warning("generation \(current.generation) is published, but clearing older rows failed (\(error.message)); the next run retries")
        }
        let keep = Set([current, published].compactMap { $0 }.flatMap { [$0.vectors?.file, $0.delta?.file].compactMap { $0 } })
        removeVectorFiles(except: keep)
    }

    /// The store; with --rebuild, a damaged one (refused at open, or failing SQLite's quick_check) is
    /// replaced by a new one. Only damage: a full disk or a lock is reported, and the store is kept.
    func openStore() throws(CodeSageError) -> IndexStore {
        do throws(CodeSageError) {
            let store = try IndexStore(path: layout.storePath, compressVectors: options.compressesVectors)
            if options.rebuild {
                let findings = try store.integrityProblems(limit: 1, quick: true)
                if let first = findings.first { throw CodeSageError(.corruptData, "\(layout.storePath): quick_check: \(first)") }
            }
            return store
        } catch where options.rebuild && error.code == .corruptData {
            indexingLog.warning("\(layout.storePath) is damaged (\(error.message)); --rebuild starts a new store")
            for suffix in ["", "-wal", "-shm"] { try FileSystem.remove(layout.storePath + suffix) }
            return try IndexStore(path: layout.storePath, compressVectors: options.compressesVectors)
        }
    }

    /// The published manifest; with --rebuild, an unreadable one is set aside (the run re-reads every
    /// file and publishes past the highest generation the store holds).
    func readManifest() throws(CodeSageError) -> IndexManifest? {
        do {
            return try IndexManifest.read(path: layout.manifestPath)
        } catch where options.rebuild && error.code == .corruptData {
            indexingLog.warning("\(layout.manifestPath) is damaged (\(error.message)); --rebuild replaces it")
            return nil
        }
    }

    /// Removes what a crashed run left: temporary files of FAISS and manifest writes ("name.tmp.<pid>").
    /// Called under the index lock, so no live run owns them.
    func removeTemporaryFiles() {
        for name in ((try? FileSystem.listDirectory(layout.directory)) ?? []).map(\.name) where name.contains(".tmp.") {
            indexingLog.info("removing \(name), left by an interrupted run")
            try? FileSystem.remove(layout.path(of: name))
        }
    }

    /// Removes base and delta files named for generations after `generation`: a run killed after writing
    /// them but before its manifest was renamed left them (a killed compaction may leave a whole base, and
    /// the next run may publish nothing to clean up after). Called under the index lock.
    func removeUnpublishedVectorFiles(after generation: Int64) {
        for name in ((try? FileSystem.listDirectory(layout.directory)) ?? []).map(\.name) {
            guard let fileGeneration = Self.generation(ofVectorFile: name), fileGeneration > generation else { continue }
            indexingLog.info("removing \(name), left by an interrupted run")
            try? FileSystem.remove(layout.path(of: name))
        }
    }

    /// The generation in a base or delta file name (`vectors-<G>.faiss`, `delta-<G>.vec`), or nil.
    static func generation(ofVectorFile name: String) -> Int64? {
        for (prefix, suffix) in [("vectors-", ".faiss"), ("delta-", ".vec")] where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            return Int64(name.dropFirst(prefix.count).dropLast(suffix.count))
        }
        return nil
    }

    /// A file read and chunked, waiting for its vectors.
    struct PendingFile {
        var file: DiscoveredFile
        var hash: [UInt8]
        var language: Language?
        var lineCount: Int
        var chunks: [ChunkDraft]
        /// Text to embed by cache key (code texts and summaries).
        var texts: [[UInt8]: String]
    }

    func prepare(file: DiscoveredFile, text: String, hash: [UInt8]) -> PendingFile {
        let firstLine = text.prefix { $0 != "\n" }
        let language = file.language ?? Language.detect(shebang: firstLine)
        let pathTokens = embedder.countTokens(Substring(file.relativePath))
        let budget = max(32, embedder.maxTokens - 2 - pathTokens - Self.headerTokenReserve)
        let embedder = self.embedder
        let chunker = Chunker(tokenBudget: budget, countTokens: { embedder.countTokens($0) })
        var drafts: [ChunkDraft] = []
        var texts: [[UInt8]: String] = [:]
        for chunk in chunker.chunks(of: text, language: language) {
            let embedded = ChunkText.forEmbedding(path: file.relativePath, symbol: chunk.symbol, kind: chunk.kind?.rawValue, code: chunk.text)
            let key = ContentHash.of(parts: embedder.identity, embedded)
            texts[key] = embedded
            var summaryKey: [UInt8]?
            if let summary = ChunkText.summary(symbol: chunk.symbol, kind: chunk.kind?.rawValue, signature: chunk.signature) {
                let k = ContentHash.of(parts: embedder.identity, summary)
                texts[k] = summary
                summaryKey = k
            }
            drafts.append(ChunkDraft(
                startLine: chunk.startLine, endLine: chunk.endLine, symbol: chunk.symbol, kind: chunk.kind?.rawValue,
                signature: chunk.signature, language: language?.rawValue, tokenCount: chunk.tokenCount,
                truncated: chunk.truncated || pathTokens + definitionLineTokens(chunk) + chunk.tokenCount > embedder.maxTokens - 2,
                part: chunk.part, partCount: chunk.partCount, text: chunk.text,
                embeddingKey: key, summaryKey: summaryKey))
        }
        let lineCount = text.isEmpty ? 0 : text.reduce(into: 1) { count, c in if c == "\n" { count += 1 } } - (text.hasSuffix("\n") ? 1 : 0)
        return PendingFile(file: file, hash: hash, language: language, lineCount: lineCount, chunks: drafts, texts: texts)
    }

    /// Word pieces of the line naming a definition in its embedded text (0 without a symbol): the
    /// tokenizer splits at newlines, so the embedded text costs path + this line + the code.
    func definitionLineTokens(_ chunk: Chunk) -> Int {
        guard chunk.symbol != nil else { return 0 }
        let text = ChunkText.forEmbedding(path: "", symbol: chunk.symbol, kind: chunk.kind?.rawValue, code: "")
        return embedder.countTokens(Substring(text))
    }

    /// Embeds what the cache lacks and writes `pending` files as generation `generation`.
    func write(_ pending: inout [PendingFile], to store: IndexStore, generation: Int64,
               report: inout IndexReport, progress: (IndexPhase, Int, Int) -> Void) throws(CodeSageError) {
        guard !pending.isEmpty else { return }
        var keys: [[UInt8]] = []
        var textByKey: [[UInt8]: String] = [:]
        for file in pending {
            for (key, text) in file.texts where textByKey[key] == nil {
                keys.append(key)
                textByKey[key] = text
            }
        }
        // This index's persistent cache, then the model's in-memory cache (its vectors may come from
        // another root, so they are written to this store too), then the model.
        let stored = try store.cachedVectors(keys, dimension: embedder.dimension)
        let inMemory = embedder.cachedVectors(keys.filter { stored[$0] == nil })
        var computed: [(key: [UInt8], vector: [Float])] = inMemory.map { ($0.key, $0.value) }
        let missing = keys.filter { stored[$0] == nil && inMemory[$0] == nil }
        report.reused += keys.count - missing.count
        for start in stride(from: 0, to: missing.count, by: options.embeddingBatch) {
            progress(.embedding, report.embedded, report.embedded + missing.count - start)
            let batch = Array(missing[start..<min(start + options.embeddingBatch, missing.count)])
            let vectors = try embedder.embed(batch.map { textByKey[$0]! })
            for (key, vector) in zip(batch, vectors) { computed.append((key, vector)) }
            report.embedded += batch.count
        }
        try store.database.transaction { () throws(CodeSageError) in
            try store.storeVectors(computed)
            for file in pending {
                try store.addFile(path: file.file.relativePath, size: file.file.size, modificationTime: file.file.modificationTime,
                                  contentHash: file.hash, language: file.language?.rawValue, lineCount: file.lineCount,
                                  chunks: file.chunks, generation: generation)
            }
        }
        pending.removeAll()
    }

    /// Deletes base and delta files other than `keep`.
    func removeVectorFiles(except keep: Set<String>) {
        for name in ((try? FileSystem.listDirectory(layout.directory)) ?? []).map(\.name)
        where Self.generation(ofVectorFile: name) != nil && !keep.contains(name) {
            try? FileSystem.remove(layout.path(of: name))
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
