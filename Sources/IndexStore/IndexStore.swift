import Caching
import CodeSageCore
import Platform

/// A file as the index last saw it.
public struct FileRecord: Sendable, Equatable {
    public var id: Int64
    /// Path relative to the root, "/"-separated.
    public var path: String
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var modificationTime: Int64
    /// SHA-256 of the file's bytes.
    public var contentHash: [UInt8]
    public var language: String?
    public var lineCount: Int
}

/// A chunk to store: where it is, what it is, its text and the key of its embedding.
public struct ChunkDraft: Sendable, Equatable {
    public var startLine: Int
    public var endLine: Int
    public var symbol: String?
    public var kind: String?
    public var signature: String?
    public var language: String?
    public var tokenCount: Int
    public var truncated: Bool
    public var part: Int
    public var partCount: Int
    /// The source lines of the chunk.
    public var text: String
    /// Key of the chunk's vector in the embedding cache (hash of model + embedded text).
    public var embeddingKey: [UInt8]
    /// Key of the vector of the definition's summary (kind, name in words, signature), or nil
    /// for chunks that are not definitions. See `ChunkText.summary`.
    public var summaryKey: [UInt8]?

    public init(startLine: Int, endLine: Int, symbol: String?, kind: String?, signature: String?, language: String?,
                tokenCount: Int, truncated: Bool, part: Int, partCount: Int, text: String, embeddingKey: [UInt8],
                summaryKey: [UInt8]? = nil) {
        self.startLine = startLine
        self.endLine = endLine
        self.symbol = symbol
        self.kind = kind
        self.signature = signature
        self.language = language
        self.tokenCount = tokenCount
        self.truncated = truncated
        self.part = part
        self.partCount = partCount
        self.text = text
        self.embeddingKey = embeddingKey
        self.summaryKey = summaryKey
    }

    /// The FTS5 column texts of the chunk in file `path` (identifier-split terms of its symbol, path, signature and
    /// body), when computed ahead of the write: an indexer computes them on every core, while the write (one
    /// SQLite connection) is one thread. nil: `addFile` computes them.
    public var lexicalColumns: [String]?

    /// Fills `lexicalColumns` for a chunk of the file at `path`.
    public mutating func computeLexicalColumns(path: String) {
        lexicalColumns = [SearchTerms.indexedText(symbol ?? ""), SearchTerms.indexedText(path),
                          SearchTerms.indexedText(signature ?? ""), SearchTerms.indexedText(text)]
    }
}

/// A stored chunk with its id (also its id in the vector index) and file.
public struct ChunkRecord: Sendable, Equatable {
    public var id: Int64
    public var fileID: Int64
    public var path: String
    public var chunk: ChunkDraft
}

/// The SQLite half of an index: files, chunks, the FTS5 lexical index and the embedding cache.
///
/// Rows are versioned by index generation: a row is visible in generation G when
/// `added_gen <= G` and `removed_gen` is NULL or `> G`. A run writing generation G+1 only adds
/// rows tagged G+1 and tags retired rows `removed_gen = G+1`, so readers of G (whose FAISS file
/// and manifest still say G) see exactly what they saw before, and a crashed run is undone by
/// `discardUnpublished(after:)`.
public final class IndexStore {
    /// The connection (one per thread; see SQLiteDatabase).
    public let database: SQLiteDatabase
    /// Whether vectors in the embedding cache are zstd-compressed when written.
    public let compressVectors: Bool

    /// Layout version of the schema below; a store with another version is rebuilt by the indexer.
    public static let schemaVersion = 1

    /// Opens (creating if needed) the store at `path` in WAL mode.
    public init(path: String, compressVectors: Bool = false) throws(CodeSageError) {
        database = try SQLiteDatabase(path: path)
        self.compressVectors = compressVectors
        do {
            try database.enableWriteAheadLog()
            try database.execute(Self.schema)
        } catch where error.code == .io || error.code == .busy {
            // A full disk or a lock is not damage: say so, and never let --rebuild delete a sound store for it.
            throw CodeSageError(error.code, "\(path) cannot be opened for writing: \(error.message)\(Self.spaceNote(path))")
        } catch {
            throw CodeSageError(.corruptData, "\(path) is not a usable index store (\(error.message)); rebuild with `codesage index --rebuild`")
        }
        let version = try metaValue("schema_version")
        if version == nil {
            try database.execute("INSERT INTO chunk_terms(chunk_terms, rank) VALUES('rank', 'bm25(\(Self.columnWeights))')")
            try setMetaValue("schema_version", String(Self.schemaVersion))
        } else if version != String(Self.schemaVersion) {
            throw CodeSageError(.corruptData, "\(path): index store schema version \(version!) is not \(Self.schemaVersion); rebuild with `codesage index --rebuild`")
        }
    }

    /// Opens an existing store read-only (nothing is created or migrated), for checks; `.notFound` when
    /// there is no file, `.corruptData` naming the file when it is not a store of this schema version.
    public init(readingExisting path: String) throws(CodeSageError) {
        guard FileSystem.exists(path) else { throw CodeSageError(.notFound, "\(path) does not exist") }
        database = try SQLiteDatabase(path: path, readOnly: true)
        compressVectors = false
        let version: String?
        do {
            version = try metaValue("schema_version")
        } catch where error.code == .io || error.code == .busy {
            throw CodeSageError(error.code, "\(path) cannot be read: \(error.message)\(Self.spaceNote(path))")
        } catch {
            throw CodeSageError(.corruptData, "\(path) is not a usable index store (\(error.message)); rebuild with `codesage index --rebuild`")
        }
        guard version == String(Self.schemaVersion) else {
            throw CodeSageError(.corruptData, "\(path): index store schema version \(version ?? "missing") is not \(Self.schemaVersion)")
        }
    }

    /// ", and the disk holding it is full" when that is so (SQLite reports a full disk at open as an I/O error).
    static func spaceNote(_ path: String) -> String {
        guard let free = FileSystem.freeBytes(near: path), free < 1 << 20 else { return "" }
        return "; the disk holding it is full (\(free) bytes free)"
    }

    /// The highest generation any row was written for (0 for an empty store).
    public func highestGeneration() throws(CodeSageError) -> Int64 {
        let rows = try database.query("SELECT max(coalesce((SELECT max(added_gen) FROM files), 0), coalesce((SELECT max(added_gen) FROM chunks), 0))")
        return rows.first?.first?.int64Value ?? 0
    }

    /// SQLite's own check of the file (PRAGMA integrity_check, or the faster quick_check): an empty list
    /// when sound, else its findings.
    public func integrityProblems(limit: Int = 20, quick: Bool = false) throws(CodeSageError) -> [String] {
        let rows = try database.query("PRAGMA \(quick ? "quick_check" : "integrity_check")(\(max(1, limit)))")
        let lines = rows.compactMap { $0.first?.textValue }
        return lines == ["ok"] ? [] : lines
    }

    /// `chunks_retired` and `files_retired` (partial: only retired rows) serve what an update asks by retirement
    /// generation (the chunks it retired, garbage collection, undoing a crashed run): at 100k chunks those queries
    /// scanned every row, 45 ms for the retired ids alone, and take microseconds with them.
    ///
    /// The embeddings table is a rowid table: as WITHOUT ROWID, each 1,536-byte vector spilled to an
    /// overflow page (4.7 KB per vector measured); in a rowid table two fit in a 4 KB page.
    static let schema = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS files(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            content_hash BLOB NOT NULL, language TEXT, line_count INTEGER NOT NULL,
            added_gen INTEGER NOT NULL, removed_gen INTEGER);
        CREATE INDEX IF NOT EXISTS files_by_path ON files(path);
        CREATE TABLE IF NOT EXISTS chunks(
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            file_id INTEGER NOT NULL, path TEXT NOT NULL,
            start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
            symbol TEXT, kind TEXT, signature TEXT, language TEXT,
            token_count INTEGER NOT NULL, truncated INTEGER NOT NULL,
            part INTEGER NOT NULL, part_count INTEGER NOT NULL,
            text TEXT NOT NULL, embedding_key BLOB NOT NULL, summary_key BLOB,
            added_gen INTEGER NOT NULL, removed_gen INTEGER);
        CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id);
        CREATE INDEX IF NOT EXISTS chunks_by_generation ON chunks(added_gen, removed_gen);
        CREATE INDEX IF NOT EXISTS chunks_retired ON chunks(removed_gen) WHERE removed_gen IS NOT NULL;
        CREATE INDEX IF NOT EXISTS files_retired ON files(removed_gen) WHERE removed_gen IS NOT NULL;
        CREATE VIRTUAL TABLE IF NOT EXISTS chunk_terms USING fts5(
            symbol, path, signature, body, tokenize = "porter unicode61 remove_diacritics 2 tokenchars '_'");
        CREATE TABLE IF NOT EXISTS embeddings(
            key BLOB NOT NULL UNIQUE, codec INTEGER NOT NULL, vector BLOB NOT NULL);
        """

    /// BM25 weights of the lexical columns symbol, path, signature, body (the table's `rank`).
    static let columnWeights = "5.0, 1.0, 2.0, 1.0"

    static let visible = "added_gen <= ?1 AND (removed_gen IS NULL OR removed_gen > ?1)"

    /// `IN` over a list of ids bound as one JSON array parameter: one SQL text whatever the ids, so
    /// one prepared statement is reused (ids spelled into the SQL made a new cached statement per list).
    static let idList = "(SELECT value FROM json_each(?))"

    /// The parameter for `idList`.
    static func idListValue<C: Collection>(_ ids: C) -> SQLiteValue where C.Element == Int64 {
        .text("[" + ids.map(String.init).joined(separator: ",") + "]")
    }

    // MARK: meta

    /// A value of the meta table, or nil.
    public func metaValue(_ key: String) throws(CodeSageError) -> String? {
        try database.query("SELECT value FROM meta WHERE key = ?1", [.text(key)]).first?.first?.textValue
    }

    /// Sets a value of the meta table.
    public func setMetaValue(_ key: String, _ value: String) throws(CodeSageError) {
        try database.query("INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
                           [.text(key), .text(value)])
    }

    // MARK: generations

    /// Undoes what a run that never published left behind: rows added after `generation` go,
    /// rows retired after it come back.
    public func discardUnpublished(after generation: Int64) throws(CodeSageError) {
        try database.transaction { () throws(CodeSageError) in
            let g = SQLiteValue.integer(generation)
            try database.query("DELETE FROM chunk_terms WHERE rowid IN (SELECT id FROM chunks WHERE added_gen > ?1)", [g])
            try database.query("DELETE FROM chunks WHERE added_gen > ?1", [g])
            try database.query("DELETE FROM files WHERE added_gen > ?1", [g])
            try database.query("UPDATE chunks SET removed_gen = NULL WHERE removed_gen > ?1", [g])
            try database.query("UPDATE files SET removed_gen = NULL WHERE removed_gen > ?1", [g])
        }
    }

    /// Deletes rows no generation at or after `generation` can see (kept: what `generation` sees).
    public func collectGarbage(keeping generation: Int64) throws(CodeSageError) {
        try database.transaction { () throws(CodeSageError) in
            let g = SQLiteValue.integer(generation)
            try database.query("DELETE FROM chunk_terms WHERE rowid IN (SELECT id FROM chunks WHERE removed_gen <= ?1)", [g])
            try database.query("DELETE FROM chunks WHERE removed_gen <= ?1", [g])
            try database.query("DELETE FROM files WHERE removed_gen <= ?1", [g])
        }
    }

    // MARK: files

    /// Files visible in `generation`, by path.
    public func files(at generation: Int64) throws(CodeSageError) -> [String: FileRecord] {
        let rows = try database.query(
            "SELECT id, path, size, mtime_ns, content_hash, language, line_count FROM files WHERE \(Self.visible)",
            [.integer(generation)])
        var result: [String: FileRecord] = [:]
        result.reserveCapacity(rows.count)
        for row in rows {
            let record = Self.fileRecord(row)
            result[record.path] = record
        }
        return result
    }

    /// The file visible in `generation` at `path`, or nil.
    public func file(path: String, at generation: Int64) throws(CodeSageError) -> FileRecord? {
        let rows = try database.query(
            "SELECT id, path, size, mtime_ns, content_hash, language, line_count FROM files WHERE path = ?2 AND \(Self.visible)",
            [.integer(generation), .text(path)])
        return rows.first.map(Self.fileRecord)
    }

    /// Files by id (any generation).
    public func files(ids: [Int64]) throws(CodeSageError) -> [Int64: FileRecord] {
        guard !ids.isEmpty else { return [:] }
        var result: [Int64: FileRecord] = [:]
        for row in try database.query("SELECT id, path, size, mtime_ns, content_hash, language, line_count FROM files WHERE id IN \(Self.idList)",
                                      [Self.idListValue(ids)]) {
            let record = Self.fileRecord(row)
            result[record.id] = record
        }
        return result
    }

    static func fileRecord(_ row: [SQLiteValue]) -> FileRecord {
        FileRecord(id: row[0].int64Value ?? 0, path: row[1].textValue ?? "", size: row[2].int64Value ?? 0,
                   modificationTime: row[3].int64Value ?? 0, contentHash: row[4].blobValue ?? [],
                   language: row[5].textValue, lineCount: Int(row[6].int64Value ?? 0))
    }

    /// Adds a file and its chunks (and their lexical terms) as of `generation`; returns the file id.
    /// Call inside a transaction when adding many.
    @discardableResult
    public func addFile(path: String, size: Int64, modificationTime: Int64, contentHash: [UInt8], language: String?,
                        lineCount: Int, chunks: [ChunkDraft], generation: Int64) throws(CodeSageError) -> Int64 {
        try database.query(
            "INSERT INTO files(path, size, mtime_ns, content_hash, language, line_count, added_gen) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            [.text(path), .integer(size), .integer(modificationTime), .blob(contentHash), language.map(SQLiteValue.text) ?? .null,
             .integer(Int64(lineCount)), .integer(generation)])
        let fileID = database.lastInsertRowID
        for chunk in chunks {
            try database.query(
                """
                INSERT INTO chunks(file_id, path, start_line, end_line, symbol, kind, signature, language, token_count,
                                   truncated, part, part_count, text, embedding_key, summary_key, added_gen)
                VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                """,
                Self.chunkValues(chunk, fileID: fileID, path: path, generation: generation))
            let chunkID = database.lastInsertRowID
            var columns = chunk
            if columns.lexicalColumns == nil { columns.computeLexicalColumns(path: path) }
            try database.query(
                "INSERT INTO chunk_terms(rowid, symbol, path, signature, body) VALUES(?1, ?2, ?3, ?4, ?5)",
                [.integer(chunkID)] + columns.lexicalColumns!.map(SQLiteValue.text))
        }
        return fileID
    }

    static func chunkValues(_ chunk: ChunkDraft, fileID: Int64, path: String, generation: Int64) -> [SQLiteValue] {
        func optional(_ text: String?) -> SQLiteValue { text.map(SQLiteValue.text) ?? .null }
        let location: [SQLiteValue] = [.integer(fileID), .text(path), .integer(Int64(chunk.startLine)), .integer(Int64(chunk.endLine))]
        let names: [SQLiteValue] = [optional(chunk.symbol), optional(chunk.kind), optional(chunk.signature), optional(chunk.language)]
        let sizes: [SQLiteValue] = [.integer(Int64(chunk.tokenCount)), .integer(chunk.truncated ? 1 : 0),
                                    .integer(Int64(chunk.part)), .integer(Int64(chunk.partCount))]
        let content: [SQLiteValue] = [.text(chunk.text), .blob(chunk.embeddingKey), chunk.summaryKey.map(SQLiteValue.blob) ?? .null,
                                      .integer(generation)]
        return location + names + sizes + content
    }

    /// Retires a file and its chunks as of `generation` (still visible to earlier generations).
    public func retireFile(id: Int64, generation: Int64) throws(CodeSageError) {
        try database.query("UPDATE files SET removed_gen = ?2 WHERE id = ?1", [.integer(id), .integer(generation)])
        try database.query("UPDATE chunks SET removed_gen = ?2 WHERE file_id = ?1", [.integer(id), .integer(generation)])
    }

    /// Records a new size and modification time for a file whose content did not change.
    public func touchFile(id: Int64, size: Int64, modificationTime: Int64) throws(CodeSageError) {
        try database.query("UPDATE files SET size = ?2, mtime_ns = ?3 WHERE id = ?1",
                           [.integer(id), .integer(size), .integer(modificationTime)])
    }

    // MARK: chunks

    /// Number of chunks and files visible in `generation`.
    public func counts(at generation: Int64) throws(CodeSageError) -> (files: Int, chunks: Int) {
        let g = SQLiteValue.integer(generation)
        let files = try database.query("SELECT count(*) FROM files WHERE \(Self.visible)", [g]).first?.first?.int64Value ?? 0
        let chunks = try database.query("SELECT count(*) FROM chunks WHERE \(Self.visible)", [g]).first?.first?.int64Value ?? 0
        return (Int(files), Int(chunks))
    }

    /// Chunks by id (any generation), in no particular order.
    public func chunks(ids: [Int64]) throws(CodeSageError) -> [Int64: ChunkRecord] {
        var result: [Int64: ChunkRecord] = [:]
        for batch in stride(from: 0, to: ids.count, by: 500) {
            let slice = ids[batch..<min(batch + 500, ids.count)]
            for row in try database.query("SELECT \(Self.chunkColumns) FROM chunks WHERE id IN \(Self.idList)", [Self.idListValue(slice)]) {
                let record = Self.chunkRecord(row)
                result[record.id] = record
            }
        }
        return result
    }

    /// Every chunk visible in `generation`, in id order.
    public func chunks(at generation: Int64) throws(CodeSageError) -> [ChunkRecord] {
        try database.query("SELECT \(Self.chunkColumns) FROM chunks WHERE \(Self.visible) ORDER BY id", [.integer(generation)])
            .map(Self.chunkRecord)
    }

    static let chunkColumns = """
        id, file_id, path, start_line, end_line, symbol, kind, signature, language, token_count, truncated, part, part_count, text, embedding_key, summary_key
        """

    static func chunkRecord(_ row: [SQLiteValue]) -> ChunkRecord {
        ChunkRecord(
            id: row[0].int64Value ?? 0, fileID: row[1].int64Value ?? 0, path: row[2].textValue ?? "",
            chunk: ChunkDraft(startLine: Int(row[3].int64Value ?? 0), endLine: Int(row[4].int64Value ?? 0), symbol: row[5].textValue,
                              kind: row[6].textValue, signature: row[7].textValue, language: row[8].textValue,
                              tokenCount: Int(row[9].int64Value ?? 0), truncated: row[10].int64Value == 1,
                              part: Int(row[11].int64Value ?? 1), partCount: Int(row[12].int64Value ?? 1),
                              text: row[13].textValue ?? "", embeddingKey: row[14].blobValue ?? [], summaryKey: row[15].blobValue))
    }

    /// The ids and search vectors of every chunk visible in `generation`, row-major.
    ///
    /// A definition's search vector is the normalised sum of its code vector and its summary
    /// vector, so its inner product with a query is proportional to the sum of both cosines;
    /// other chunks use their code vector. With `codeOnly`, every chunk uses its code vector
    /// (what duplicate detection compares). Throws `.corruptData` when a vector is missing.
    public func vectors(at generation: Int64, dimension: Int, codeOnly: Bool = false) throws(CodeSageError) -> (ids: [Int64], matrix: [Float]) {
        let found = try searchVectors(where: "c.added_gen <= ?1 AND (c.removed_gen IS NULL OR c.removed_gen > ?1)", [.integer(generation)],
                                      dimension: dimension, codeOnly: codeOnly, allowMissing: false)
        return (found.ids, found.matrix)
    }

    /// As `vectors(at:)`, leaving out (and listing) the chunks whose vectors are not stored yet.
    public func embeddedVectors(at generation: Int64, dimension: Int, codeOnly: Bool = false) throws(CodeSageError)
        -> (ids: [Int64], matrix: [Float], missing: [Int64]) {
        try searchVectors(where: "c.added_gen <= ?1 AND (c.removed_gen IS NULL OR c.removed_gen > ?1)", [.integer(generation)],
                          dimension: dimension, codeOnly: codeOnly, allowMissing: true)
    }

    /// The ids and search vectors (as `vectors(at:)` makes them) of the chunks `generation` added, in id order:
    /// what an update appends to the delta segment; `missing` lists those whose vectors are not stored yet.
    public func vectors(addedIn generation: Int64, dimension: Int) throws(CodeSageError) -> (ids: [Int64], matrix: [Float], missing: [Int64]) {
        try searchVectors(where: "c.added_gen = ?1 AND (c.removed_gen IS NULL OR c.removed_gen > ?1)", [.integer(generation)],
                          dimension: dimension, codeOnly: false, allowMissing: true)
    }

    /// The search vectors of the chunks `ids` (in id order); `missing` lists those whose vectors are not stored yet.
    public func vectors(ofChunks ids: [Int64], dimension: Int) throws(CodeSageError) -> (ids: [Int64], matrix: [Float], missing: [Int64]) {
        try searchVectors(where: "c.id IN \(Self.idList)", [Self.idListValue(ids)], dimension: dimension, codeOnly: false, allowMissing: true)
    }

    /// Ids of the chunks `generation` retired (visible in the generation before it, not in it).
    public func chunkIDs(retiredIn generation: Int64) throws(CodeSageError) -> [Int64] {
        try database.query("SELECT id FROM chunks WHERE removed_gen = ?1 AND added_gen < ?1 ORDER BY id", [.integer(generation)])
            .compactMap { $0[0].int64Value }
    }

    /// `ids` ordered for embedding: chunks of the most recently modified files first (then by id).
    public func orderedByRecency(_ ids: [Int64]) throws(CodeSageError) -> [Int64] {
        guard !ids.isEmpty else { return [] }
        return try database.query(
            "SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id IN \(Self.idList) ORDER BY f.mtime_ns DESC, c.id",
            [Self.idListValue(ids)]).compactMap { $0[0].int64Value }
    }

    func searchVectors(where condition: String, _ parameters: [SQLiteValue], dimension: Int, codeOnly: Bool,
                       allowMissing: Bool) throws(CodeSageError) -> (ids: [Int64], matrix: [Float], missing: [Int64]) {
        let rows = try database.query(
            """
            SELECT c.id, e.codec, e.vector, s.codec, s.vector, c.summary_key IS NOT NULL FROM chunks c
            LEFT JOIN embeddings e ON e.key = c.embedding_key
            LEFT JOIN embeddings s ON s.key = c.summary_key
            WHERE \(condition) ORDER BY c.id
            """, parameters)
        var ids: [Int64] = []
        var matrix: [Float] = []
        var missing: [Int64] = []
        ids.reserveCapacity(rows.count)
        matrix.reserveCapacity(rows.count * dimension)
        for row in rows {
            let id = row[0].int64Value ?? -1
            let summaryMissing = !codeOnly && (row[5].int64Value ?? 0) != 0 && row[3].int64Value == nil
            guard let codec = row[1].int64Value, let blob = row[2].blobValue, !summaryMissing else {
                if allowMissing { missing.append(id); continue }
                throw CodeSageError(.corruptData, "\(database.path): chunk \(id) has no stored vector")
            }
            var vector = try Self.decodeVector(codec: codec, blob, dimension: dimension)
            if !codeOnly, let summaryCodec = row[3].int64Value, let summaryBlob = row[4].blobValue {
                let summary = try Self.decodeVector(codec: summaryCodec, summaryBlob, dimension: dimension)
                for i in 0..<dimension { vector[i] += summary[i] }
                let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
                if norm > 0 { for i in 0..<dimension { vector[i] /= norm } }
            }
            ids.append(id)
            matrix.append(contentsOf: vector)
        }
        return (ids, matrix, missing)
    }

    /// Terms-ranked chunk ids visible in `generation` for an FTS5 `match` expression, best first,
    /// with their BM25 score (higher is better). Terms are Porter-stemmed; symbol and signature
    /// terms weigh more than path and body terms (`columnWeights`).
    ///
    /// FTS5 ranks on its own (`ORDER BY rank` over the table alone is its fast path); rows of other
    /// generations are dropped afterwards, fetching more when some were dropped.
    public func lexicalSearch(match: String, generation: Int64, limit: Int) throws(CodeSageError) -> [(id: Int64, score: Double)] {
        var fetch = limit + 16
        while true {
            let rows = try database.query("SELECT rowid, rank FROM chunk_terms WHERE chunk_terms MATCH ?1 ORDER BY rank LIMIT ?2",
                                          [.text(match), .integer(Int64(fetch))])
            let ids = rows.compactMap { $0[0].int64Value }
            let visible = try visibleChunks(ids, generation: generation)
            let ranked = rows.compactMap { row -> (id: Int64, score: Double)? in
                guard let id = row[0].int64Value, visible.contains(id) else { return nil }
                return (id, -(row[1].realValue ?? 0))
            }
            if ranked.count >= limit || rows.count < fetch { return Array(ranked.prefix(limit)) }
            fetch *= 4
        }
    }

    /// Which of `ids` are visible in `generation`.
    func visibleChunks(_ ids: [Int64], generation: Int64) throws(CodeSageError) -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return Set(try database.query("SELECT id FROM chunks WHERE id IN (SELECT value FROM json_each(?2)) AND \(Self.visible)",
                                      [.integer(generation), Self.idListValue(ids)])
            .compactMap { $0[0].int64Value })
    }

    // MARK: embedding cache

    /// Cached vectors for `keys` (missing keys are absent from the result).
    public func cachedVectors(_ keys: [[UInt8]], dimension: Int) throws(CodeSageError) -> [[UInt8]: [Float]] {
        var result: [[UInt8]: [Float]] = [:]
        for key in keys {
            guard let row = try database.query("SELECT codec, vector FROM embeddings WHERE key = ?1", [.blob(key)]).first,
                  let codec = row[0].int64Value, let blob = row[1].blobValue else { continue }
            result[key] = try Self.decodeVector(codec: codec, blob, dimension: dimension)
        }
        return result
    }

    /// Stores vectors in the embedding cache (zstd-compressed when `compressVectors`).
    public func storeVectors(_ entries: [(key: [UInt8], vector: [Float])]) throws(CodeSageError) {
        for entry in entries {
            var bytes = entry.vector.withUnsafeBytes { Array($0) }
            var codec: Int64 = 0
            if compressVectors {
                let packed = try ZstdCodec.compress(bytes, level: 3)
                if packed.count < bytes.count { bytes = packed; codec = 1 }
            }
            try database.query("INSERT OR REPLACE INTO embeddings(key, codec, vector) VALUES(?1, ?2, ?3)",
                               [.blob(entry.key), .integer(codec), .blob(bytes)])
        }
    }

    /// Number of vectors in the embedding cache and the bytes they take in the database.
    public func embeddingCacheSize() throws(CodeSageError) -> (entries: Int, bytes: Int) {
        let row = try database.query("SELECT count(*), coalesce(sum(length(vector)), 0) FROM embeddings").first
        return (Int(row?[0].int64Value ?? 0), Int(row?[1].int64Value ?? 0))
    }

    static func decodeVector(codec: Int64, _ blob: [UInt8], dimension: Int) throws(CodeSageError) -> [Float] {
        let raw: [UInt8]
        switch codec {
        case 0: raw = blob
        case 1: raw = try ZstdCodec.decompress(blob, limit: dimension * 4)
        default: throw CodeSageError(.corruptData, "embedding cache: unknown vector codec \(codec)")
        }
        guard raw.count == dimension * 4 else {
            throw CodeSageError(.corruptData, "embedding cache: a vector has \(raw.count) bytes, expected \(dimension * 4)")
        }
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
}
