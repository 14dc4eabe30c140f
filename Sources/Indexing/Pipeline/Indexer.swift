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
    /// From this many chunks without vectors, a run publishes the generation for keyword search first and
    /// embeds them after, publishing as coverage grows (CODESAGE_INDEX_LEXICAL_FIRST_CHUNKS).
    public var lexicalFirstChunks = IndexOptions.lexicalFirstDefault
    /// 512 chunks: about 20 s of embedding on two cores, the point from which waiting for the model is felt.
    public static let lexicalFirstDefault = 512
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
        lexicalFirstChunks = configuration.lexicalFirstChunks
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
    /// Chunks semantic search covers, as a share of all chunks, at the end of the run.
    public var semanticCoverage = 1.0
    /// When the run published a generation for keyword search before embedding (seconds from its start); nil
    /// when everything was embedded before the first publication.
    public var lexicalSeconds: Double?
    /// Generations published while embedding (each with more of the chunks searchable by meaning).
    public var embeddingPublications = 0

    /// At most this many excluded paths are listed (a node_modules folder is one entry, but a tree can
    /// still hold many unreadable files).
    public static let listedExclusions = 1_000

    /// Records what the run's newest publication, `manifest`, holds: its generation, vectors and coverage.
    mutating func record(published manifest: IndexManifest) {
        generation = manifest.generation
        published = true
        indexType = manifest.vectors?.factory ?? ""
        recallAt10 = manifest.vectors?.recallAt10
        deltaVectors = manifest.delta?.count ?? 0
        tombstones = manifest.delta?.tombstones ?? 0
        semanticCoverage = manifest.semanticCoverage
    }

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
        case generation, published, vectorUpdate, deltaVectors, tombstones, compacted, semanticCoverage, lexicalSeconds, embeddingPublications
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
    /// While embedding after a lexical-first publication: a generation with more chunks embedded is published.
    case afterEmbeddingPublished
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
        // Generations published while embedding or by a compaction have no rows: the vector files name them too.
        if let previous { published = previous.generation } else { published = manifestLost ? max(try store.highestGeneration(), highestFileGeneration()) : 0 }
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
        // Files are read, hashed and chunked on every core, a batch at a time; their outcomes are applied in order.
        let batchSize = max(1, ProcessInfo.processInfo.activeProcessorCount) * 8
        for batchStart in stride(from: 0, to: toRead.count, by: batchSize) {
            progress(.reading, batchStart, toRead.count)
            let batch = Array(toRead[batchStart..<min(batchStart + batchSize, toRead.count)])
            for (file, outcome) in zip(batch, readConcurrently(batch, known: known, rereadAll: rereadAll)) {
                switch outcome {
                case .unreadable(let reason, let message):
                    indexingLog.warning("cannot read \(file.relativePath): \(message); left out")
                    report.exclude(SkippedPath(relativePath: file.relativePath, reason: reason, detail: message))
                    if let old = known[file.relativePath] { retired.append(old.id) }
                case .notText(let binary):
                    indexingLog.info("\(file.relativePath) is \(binary ? "binary" : "over the size limit") now; left out")
                    report.exclude(SkippedPath(relativePath: file.relativePath, reason: binary ? .binary : .tooLarge))
                    if let old = known[file.relativePath] { retired.append(old.id) }
                case .sameContent(let id):
                    touched.append((id, file.size, file.modificationTime))
                    report.touched += 1
                case .prepared(let prepared):
                    if let old = known[file.relativePath] {
                        retired.append(old.id)
                        report.changed += 1
                    } else {
                        report.added += 1
                    }
                    pendingChunks += prepared.chunks.count
                    pending.append(prepared)
                    if pendingChunks >= options.embeddingBatch * 4 {
                        try write(&pending, to: store, generation: next, report: &report)
                        pendingChunks = 0
                    }
                }
            }
        }
        try write(&pending, to: store, generation: next, report: &report)
        report.deleted = gone.count
        try checkpoint(.afterChunksWritten)

        let nothingChanged = previous != nil && report.added == 0 && report.changed == 0 && retired.isEmpty
        if nothingChanged, let previous {
            // Only times changed (or nothing): record them; generation and vectors stay as they are.
            try store.database.transaction { () throws(CodeSageError) in
                for t in touched { try store.touchFile(id: t.id, size: t.size, modificationTime: t.time) }
            }
            report.files = previous.files
            report.chunks = previous.chunks
            report.generation = published
            report.indexType = previous.vectors?.factory ?? ""
            report.recallAt10 = previous.vectors?.recallAt10
            report.semanticCoverage = previous.semanticCoverage
            // A run killed while embedding left chunks pending, or before compacting: this run finishes the job.
            if previous.pendingChunks > 0 || compactionDue(previous), var state = try keptVectors(of: previous, retiring: [], store: store) {
                var manifest = previous
                let start = RunStart(manifest: previous, rowsOf: published)
                try finishEmbedding(&state, manifest: &manifest, start: start, store: store, report: &report, progress: progress, checkpoint: checkpoint)
                try compactIfDue(state, manifest: manifest, start: start, store: store, report: &report, progress: progress, checkpoint: checkpoint)
            }
            report.seconds = Self.seconds(since: started)
            return report
        }

        try store.database.transaction { () throws(CodeSageError) in
            for id in retired { try store.retireFile(id: id, generation: next) }
            for t in touched { try store.touchFile(id: t.id, size: t.size, modificationTime: t.time) }
        }
        try checkpoint(.afterFilesRetired)

        // Vectors of `next`: a delta over the published base when it can be kept, else a new set. Chunks the
        // caches had no vectors for are pending: a few are embedded now; many (a cold index, a big branch switch)
        // are embedded after a first publication, so keyword search answers at once.
        let counts = try store.counts(at: next)
        var state: VectorState
        if !rereadAll, options.deltaLimit != 0, let previous,
           let kept = try keptVectors(of: previous, retiring: try store.chunkIDs(retiredIn: next), store: store) {
            state = kept
            let added = try store.vectors(addedIn: next, dimension: embedder.dimension)
            state.append(ids: added.ids, matrix: added.matrix)
            state.pending = try store.orderedByRecency(added.missing) + state.pending  // the files just changed first
            report.vectorUpdate = "delta"
        } else {
            state = try newVectorSet(store: store, generation: next)
            report.vectorUpdate = "full"
        }
        if state.searchable + state.pending.count != counts.chunks {
            // The kept vectors disagree with the store (never seen; a guard, not a path): start a new set. Debug
            // builds (the tests) stop here, so that a bookkeeping bug cannot hide behind the fallback.
            assertionFailure("vectors of generation \(next): \(state.searchable) searchable + \(state.pending.count) pending ≠ \(counts.chunks) chunks")
            indexingLog.warning("vectors of generation \(next): \(state.searchable) searchable + \(state.pending.count) pending ≠ \(counts.chunks) chunks; building a new base")
            state = try newVectorSet(store: store, generation: next)
            report.vectorUpdate = "full"
        }
        if state.pending.count < options.lexicalFirstChunks {
            try embed(chunks: state.pending, into: &state, store: store, report: &report, progress: progress)
            state.pending = []
        }
        progress(.buildingVectors, 0, 1)
        if state.base == nil, state.pending.isEmpty, !state.ids.isEmpty {
            // A new set with every vector at hand: a base at once (no delta), as a first build always was.
            state = VectorState(base: try buildBase(ids: state.ids, matrix: state.matrix, fileGeneration: next),
                                ids: [], matrix: [], tombstones: [], pending: [])
        }
        let start = RunStart(manifest: previous, rowsOf: published)
        var manifest = try publish(state, generation: next, counts: counts, store: store, start: start, previous: previous,
                                   checkpoints: (.afterVectorFileWritten, .afterManifestWritten), progress: progress, checkpoint: checkpoint)
        if !state.pending.isEmpty {
            report.lexicalSeconds = Self.seconds(since: started)
            indexingLog.info("generation \(next) published for keyword search; embedding its \(state.pending.count) pending chunks now")
        }

        report.files = counts.files
        report.chunks = counts.chunks
        report.record(published: manifest)

        try finishEmbedding(&state, manifest: &manifest, start: start, store: store, report: &report, progress: progress, checkpoint: checkpoint)
        try compactIfDue(state, manifest: manifest, start: start, store: store, report: &report, progress: progress, checkpoint: checkpoint)
        report.seconds = Self.seconds(since: started)
        return report
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

    /// The highest generation a base or delta file in the index folder is named for (0 without any).
    func highestFileGeneration() -> Int64 {
        ((try? FileSystem.listDirectory(layout.directory)) ?? []).compactMap { Self.generation(ofVectorFile: $0.name) }.max() ?? 0
    }

    /// The generation in a base or delta file name (`vectors-<G>.faiss`, `delta-<G>.vec`), or nil.
    static func generation(ofVectorFile name: String) -> Int64? {
        for (prefix, suffix) in [("vectors-", ".faiss"), ("delta-", ".vec")] where name.hasPrefix(prefix) && name.hasSuffix(suffix) {
            return Int64(name.dropFirst(prefix.count).dropLast(suffix.count))
        }
        return nil
    }

    /// What reading one file came to.
    enum ReadOutcome {
        case unreadable(SkipReason, String)
        case notText(binary: Bool)
        /// Its content hash is the one indexed (only its time or size changed).
        case sameContent(id: Int64)
        case prepared(PendingFile)
    }

    /// Reads, hashes and chunks `files` on every core (pure work: nothing is written); outcomes in `files` order.
    func readConcurrently(_ files: [DiscoveredFile], known: [String: FileRecord], rereadAll: Bool) -> [ReadOutcome] {
        let outcomes = OutcomeSlots(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            outcomes.set(index, read(files[index], known: known[files[index].relativePath], rereadAll: rereadAll))
        }
        return outcomes.values()
    }

    func read(_ file: DiscoveredFile, known old: FileRecord?, rereadAll: Bool) -> ReadOutcome {
        let loaded: SourceText.Loaded
        do {
            loaded = try SourceText.load(path: layout.root + "/" + file.relativePath, maxSize: options.maxFileSize, root: layout.root)
        } catch {
            let reason: SkipReason = switch error.code {
            case .notFound: .vanished
            case .invalidArgument: .changedType  // swapped for a link out of the root, a FIFO, a device
            default: .unreadable
            }
            return .unreadable(reason, error.message)
        }
        guard case .text(let text, let bytes) = loaded else { return .notText(binary: loaded == .binary) }
        let hash = ContentHash.of(bytes)
        if let old, !rereadAll, old.contentHash == hash { return .sameContent(id: old.id) }
        return .prepared(prepare(file: file, text: text, hash: hash))
    }

    /// Result slots filled from concurrent iterations, each slot by one iteration only.
    final class OutcomeSlots: @unchecked Sendable {
        private var slots: [ReadOutcome?]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ outcome: ReadOutcome) { lock.withLock { slots[index] = outcome } }
        func values() -> [ReadOutcome] { lock.withLock { slots.map { $0! } } }
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
        // The FTS5 terms too, here (on every core) rather than in the single-threaded write.
        for index in drafts.indices { drafts[index].computeLexicalColumns(path: file.relativePath) }
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

    /// Writes `pending` files as generation `generation`, with the vectors the caches already hold (this index's
    /// persistent cache, then the model's in-memory cache, whose vectors may come from another root); the model
    /// embeds the rest later (`embed(chunks:)`), before or after the generation is published.
    func write(_ pending: inout [PendingFile], to store: IndexStore, generation: Int64, report: inout IndexReport) throws(CodeSageError) {
        guard !pending.isEmpty else { return }
        var keys: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for file in pending {
            for key in file.texts.keys where seen.insert(key).inserted { keys.append(key) }
        }
        let stored = try store.cachedVectors(keys, dimension: embedder.dimension)
        let inMemory = embedder.cachedVectors(keys.filter { stored[$0] == nil })
        report.reused += stored.count + inMemory.count
        try store.database.transaction { () throws(CodeSageError) in
            try store.storeVectors(inMemory.map { ($0.key, $0.value) })
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
