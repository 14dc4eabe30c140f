import CodeSageCore
import Foundation
import IndexStore
import Platform
import VectorIndex

/// The vectors of a generation being prepared: a base (kept or none), the delta's rows and tombstones, and
/// the chunks still without vectors.
struct VectorState {
    /// The kept base, or nil (a new set: everything is in the delta until it is compacted).
    var base: IndexManifest.VectorIndexInfo?
    /// Delta rows: chunk ids and their vectors (row-major).
    var ids: [Int64]
    var matrix: [Float]
    /// Base ids no longer visible.
    var tombstones: Set<Int64>
    /// Visible chunks without vectors yet, in embedding order.
    var pending: [Int64]

    /// Chunks a search can return.
    var searchable: Int { (base?.count ?? 0) - tombstones.count + ids.count }

    mutating func append(ids more: [Int64], matrix rows: [Float]) {
        ids += more
        matrix += rows
    }
}

/// What a run started from: readers of that generation may stay open for the whole run, so its rows (and its
/// files) are kept by every publication the run makes, however many (a cold run publishes several).
struct RunStart {
    /// The manifest published when the run began (nil for a first index).
    var manifest: IndexManifest?
    /// Rows visible in this generation are kept (`IndexStore.collectGarbage(keeping:)`).
    var rowsOf: Int64
}

extension Indexer {
    /// `previous`'s vectors with the chunks `retired` taken out (from the delta, from the pending list, or as
    /// tombstones of the base). nil when they cannot be kept: no vectors at all, a missing base, an unreadable
    /// segment; the caller starts a new set.
    func keptVectors(of previous: IndexManifest, retiring retired: [Int64], store: IndexStore) throws(CodeSageError) -> VectorState? {
        if let base = previous.vectors, !FileSystem.exists(layout.path(of: base.file)) { return nil }
        guard previous.vectors != nil || previous.delta != nil else { return nil }
        let dimension = embedder.dimension
        var state = VectorState(base: previous.vectors, ids: [], matrix: [], tombstones: [], pending: [])
        if let info = previous.delta {
            do throws(CodeSageError) {
                let segment = try DeltaSegment(path: layout.path(of: info.file), dimension: dimension)
                if let mismatch = IndexManifest.mismatch(segment, info) { throw CodeSageError(.corruptData, mismatch) }
                // Copied while the segment (and so its mapping) is certainly alive.
                withExtendedLifetime(segment) {
                    state.ids = Array(segment.ids)
                    state.matrix = Array(segment.vectors)
                    state.tombstones = Set(segment.tombstones)
                    state.pending = Array(segment.pending)
                }
            } catch {
                indexingLog.warning("cannot read the delta segment (\(error.message)); building a new base instead")
                return nil
            }
        }
        guard !retired.isEmpty else { return state }
        let gone = Set(retired)
        let inDelta = Set(state.ids)
        let wasPending = Set(state.pending)
        if state.base != nil {
            for id in retired where !inDelta.contains(id) && !wasPending.contains(id) { state.tombstones.insert(id) }
        }
        var keptIDs: [Int64] = []
        var keptMatrix: [Float] = []
        keptIDs.reserveCapacity(state.ids.count)
        keptMatrix.reserveCapacity(state.matrix.count)
        for (row, id) in state.ids.enumerated() where !gone.contains(id) {
            keptIDs.append(id)
            keptMatrix.append(contentsOf: state.matrix[(row * dimension)..<((row + 1) * dimension)])
        }
        state.ids = keptIDs
        state.matrix = keptMatrix
        state.pending.removeAll { gone.contains($0) }
        return state
    }

    /// A new set of `generation`'s vectors, with no base: every stored vector in the delta, the rest pending.
    func newVectorSet(store: IndexStore, generation: Int64) throws(CodeSageError) -> VectorState {
        let embedded = try store.embeddedVectors(at: generation, dimension: embedder.dimension)
        return VectorState(base: nil, ids: embedded.ids, matrix: embedded.matrix, tombstones: [],
                           pending: try store.orderedByRecency(embedded.missing))
    }

    /// Embeds the texts of `chunks` that no cache holds (in batches), stores their vectors, and appends the
    /// chunks' search vectors to `state`.
    func embed(chunks: [Int64], into state: inout VectorState, store: IndexStore, report: inout IndexReport,
               progress: (IndexPhase, Int, Int) -> Void, done: Int = 0, total: Int? = nil) throws(CodeSageError) {
        let total = total ?? chunks.count
        for start in stride(from: 0, to: chunks.count, by: options.embeddingBatch) {
            let batch = Array(chunks[start..<min(start + options.embeddingBatch, chunks.count)])
            progress(.embedding, done + start, total)
            // The texts, rebuilt from the rows exactly as `prepare` made them (the keys are stored with the rows).
            var textByKey: [[UInt8]: String] = [:]
            for record in try store.chunks(ids: batch).values {
                let chunk = record.chunk
                textByKey[chunk.embeddingKey] = ChunkText.forEmbedding(path: record.path, symbol: chunk.symbol, kind: chunk.kind, code: chunk.text)
                if let key = chunk.summaryKey, let summary = ChunkText.summary(symbol: chunk.symbol, kind: chunk.kind, signature: chunk.signature) {
                    textByKey[key] = summary
                }
            }
            let keys = Array(textByKey.keys)
            let stored = try store.cachedVectors(keys, dimension: embedder.dimension)
            let inMemory = embedder.cachedVectors(keys.filter { stored[$0] == nil })
            var computed: [(key: [UInt8], vector: [Float])] = inMemory.map { ($0.key, $0.value) }
            let missing = keys.filter { stored[$0] == nil && inMemory[$0] == nil }
            for (key, vector) in zip(missing, try embedder.embed(missing.map { textByKey[$0]! })) { computed.append((key, vector)) }
            report.embedded += missing.count
            try store.database.transaction { () throws(CodeSageError) in try store.storeVectors(computed) }
            let vectors = try store.vectors(ofChunks: batch, dimension: embedder.dimension)
            guard vectors.missing.isEmpty else {
                throw CodeSageError(.corruptData, "\(layout.storePath): chunks \(vectors.missing.prefix(5)) still have no vector after embedding")
            }
            state.append(ids: vectors.ids, matrix: vectors.matrix)
        }
        if !chunks.isEmpty { progress(.embedding, done + chunks.count, total) }
    }

    /// Embeds `state.pending`, most recently changed files first, publishing a generation whenever the chunks
    /// embedded since the last one reach the number already searchable (and at least one batch), or the list is
    /// done: so the segment rewrites add up to at most about twice its final size.
    func finishEmbedding(_ state: inout VectorState, manifest: inout IndexManifest, start: RunStart, store: IndexStore, report: inout IndexReport,
                         progress: (IndexPhase, Int, Int) -> Void,
                         checkpoint: (IndexCheckpoint) throws(CodeSageError) -> Void) throws(CodeSageError) {
        guard !state.pending.isEmpty else { return }
        let queue = state.pending
        var position = 0
        var sincePublished = 0
        while position < queue.count {
            let batch = Array(queue[position..<min(position + options.embeddingBatch, queue.count)])
            try embed(chunks: batch, into: &state, store: store, report: &report, progress: progress, done: position, total: queue.count)
            position += batch.count
            sincePublished += batch.count
            state.pending = Array(queue[position...])
            guard position == queue.count || sincePublished >= max(options.embeddingBatch, state.searchable - sincePublished) else { continue }
            let counts = (files: manifest.files, chunks: manifest.chunks)
            manifest = try publish(state, generation: manifest.generation + 1, counts: counts, store: store, start: start,
                                   previous: manifest, checkpoints: (nil, .afterEmbeddingPublished), progress: progress, checkpoint: checkpoint)
            sincePublished = 0
            report.embeddingPublications += 1
            report.record(published: manifest)
        }
    }

    /// Whether `manifest`'s vectors are due for compaction: nothing pending, and a delta past its limit or no base.
    func compactionDue(_ manifest: IndexManifest) -> Bool {
        guard let delta = manifest.delta, delta.pending == 0 else { return false }
        let limit = options.deltaLimit ?? DeltaPolicy.limit(baseCount: manifest.vectors?.count ?? 0)
        return manifest.vectors == nil || delta.count + delta.tombstones > limit
    }

    /// Compacts `manifest`'s vectors when due. With no base, `state` already holds every vector,
    /// which the new base is built from (no second copy read back from the store).
    func compactIfDue(_ state: VectorState, manifest: IndexManifest, start: RunStart, store: IndexStore, report: inout IndexReport,
                      progress: (IndexPhase, Int, Int) -> Void,
                      checkpoint: (IndexCheckpoint) throws(CodeSageError) -> Void) throws(CodeSageError) {
        guard compactionDue(manifest) else { return }
        progress(.compacting, 0, 1)
        let vectors: (ids: [Int64], matrix: [Float])? = state.base == nil && state.pending.isEmpty ? (state.ids, state.matrix) : nil
        guard let compacted = try compact(store: store, published: manifest, vectors: vectors, start: start, checkpoint: checkpoint) else { return }
        report.compacted = true
        report.record(published: compacted)
    }

    /// Writes `state`'s delta segment (when it has anything) and the manifest of `generation`, then retires older
    /// rows and files. `checkpoints` are the crash points after the segment and after the manifest.
    func publish(_ state: VectorState, generation: Int64, counts: (files: Int, chunks: Int), store: IndexStore, start: RunStart,
                 previous: IndexManifest?, checkpoints: (written: IndexCheckpoint?, published: IndexCheckpoint?),
                 progress: (IndexPhase, Int, Int) -> Void,
                 checkpoint: (IndexCheckpoint) throws(CodeSageError) -> Void) throws(CodeSageError) -> IndexManifest {
        var delta: IndexManifest.DeltaInfo?
        if !state.ids.isEmpty || !state.tombstones.isEmpty || !state.pending.isEmpty {
            let fileName = IndexLayout.deltaFileName(generation: generation)
            let bytes = try DeltaSegment.encode(ids: state.ids, vectors: state.matrix, tombstones: Array(state.tombstones),
                                                pending: state.pending, dimension: embedder.dimension)
            try FileSystem.writeDurably(bytes, to: layout.path(of: fileName))
            delta = IndexManifest.DeltaInfo(file: fileName, count: state.ids.count, tombstones: state.tombstones.count,
                                            pending: state.pending.count, bytes: bytes.count, sha256: ContentHash.hex(ContentHash.of(bytes)))
        }
        if let written = checkpoints.written { try checkpoint(written) }
        progress(.publishing, 0, 1)
        var manifest = IndexManifest(
            formatVersion: delta == nil ? IndexManifest.currentFormat : IndexManifest.deltaFormat, generation: generation,
            publishedAt: IndexManifest.timestamp(), root: layout.root,
            model: .init(identity: embedder.identity, dimension: embedder.dimension, quantized: embedder.identity.contains("/int8/")),
            files: counts.files, chunks: counts.chunks, vectors: state.base)
        manifest.delta = delta
        try manifest.write(to: layout.manifestPath)
        if let published = checkpoints.published { try checkpoint(published) }
        retireOldGenerations(store: store, start: start, previous: previous, current: manifest)
        return manifest
    }

    /// Builds a base FAISS file of `ids`/`matrix`, named for `fileGeneration`; nil without vectors.
    func buildBase(ids: [Int64], matrix: [Float], fileGeneration: Int64) throws(CodeSageError) -> IndexManifest.VectorIndexInfo? {
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
    func compact(store: IndexStore, published: IndexManifest, vectors given: (ids: [Int64], matrix: [Float])?, start: RunStart,
                 checkpoint: (IndexCheckpoint) throws(CodeSageError) -> Void) throws(CodeSageError) -> IndexManifest? {
        let next = published.generation + 1
        var manifest = published
        do {
            let (ids, matrix): ([Int64], [Float])
            if let given { (ids, matrix) = given } else { (ids, matrix) = try store.vectors(at: published.generation, dimension: embedder.dimension) }
            manifest.vectors = try buildBase(ids: ids, matrix: matrix, fileGeneration: next)
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
        retireOldGenerations(store: store, start: start, previous: published, current: manifest)
        return manifest
    }

    /// After `current` is published: readers of the generation the run started from, and of the one just before
    /// `current`, may still be open, so their rows and files stay; older ones go. A failure here (a full disk)
    /// leaves garbage for the next run, not an error.
    func retireOldGenerations(store: IndexStore, start: RunStart, previous: IndexManifest?, current: IndexManifest) {
        do {
            try store.collectGarbage(keeping: start.rowsOf)
        } catch {
            indexingLog.warning("generation \(current.generation) is published, but clearing older rows failed (\(error.message)); the next run retries")
        }
        let keep = Set([current, previous, start.manifest].compactMap { $0 }.flatMap { [$0.vectors?.file, $0.delta?.file].compactMap { $0 } })
        removeVectorFiles(except: keep)
    }
}
