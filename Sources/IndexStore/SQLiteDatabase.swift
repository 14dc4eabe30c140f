import CSQLite
import CodeSageCore

/// SQLITE_TRANSIENT: SQLite copies bound text and blobs before the bind call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value bound to, or read from, a SQL statement.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue {
    /// The integer, or nil for other types.
    public var int64Value: Int64? { if case .integer(let v) = self { v } else { nil } }
    /// The real (integers widen), or nil.
    public var realValue: Double? {
        switch self {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
    /// The text, or nil for other types.
    public var textValue: String? { if case .text(let v) = self { v } else { nil } }
    /// The blob, or nil for other types.
    public var blobValue: [UInt8]? { if case .blob(let v) = self { v } else { nil } }
}

/// One connection to a SQLite database (the system library, with FTS5).
///
/// Not thread-safe: one connection per thread or actor; SQLite's WAL mode lets readers in
/// other connections see the last committed state while a writer works.
public final class SQLiteDatabase {
    private var handle: OpaquePointer?
    /// Prepared statements by SQL text, reused across calls (reset after each use).
    private var statements: [String: OpaquePointer] = [:]
    /// The database file.
    public let path: String

    /// Opens (creating if needed) the database at `path`; `readOnly` opens without write access.
    public init(path: String, readOnly: Bool = false) throws(CodeSageError) {
        self.path = path
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let status = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            handle = nil
            throw CodeSageError(status == SQLITE_CANTOPEN ? .notFound : .native, "cannot open SQLite database \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 5_000)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// The SQLite library version, e.g. "3.40.1".
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// Switches to write-ahead logging with NORMAL sync, the store's mode. The -wal and -shm files are kept
    /// when the last connection closes (SQLITE_FCNTL_PERSIST_WAL): a reader opening later then needs no new
    /// file, so the published index stays searchable on a full disk.
    public func enableWriteAheadLog() throws(CodeSageError) {
        let mode = try query("PRAGMA journal_mode=WAL").first?.first
        guard mode == .text("wal") else { throw CodeSageError(.native, "\(path): WAL mode refused (got \(String(describing: mode)))") }
        try execute("PRAGMA synchronous=NORMAL")
        var persist: Int32 = 1
        _ = sqlite3_file_control(handle, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
    }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws(CodeSageError) {
        var message: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &message)
        if status != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            throw CodeSageError(Self.code(of: status), "SQLite (\(path)): \(text)")
        }
    }

    /// Runs one statement with `parameters` bound to ?1, ?2, … and returns every row.
    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws(CodeSageError) -> [[SQLiteValue]] {
        let statement = try cachedStatement(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, parameter) in parameters.enumerated() {
            try bind(parameter, at: Int32(offset + 1), in: statement)
        }
        var rows: [[SQLiteValue]] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw CodeSageError(Self.code(of: status), "SQLite step (\(path)): \(errorMessage)") }
            rows.append((0..<sqlite3_column_count(statement)).map { column(at: $0, in: statement) })
        }
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT, rolling back if it throws.
    public func transaction<T>(_ body: () throws(CodeSageError) -> T) throws(CodeSageError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Most prepared statements kept. The store's SQL texts are fixed (values are bound), so this is never
    /// reached in normal use; it bounds memory should a caller ever build SQL from data.
    static let statementCacheLimit = 128

    private func cachedStatement(_ sql: String) throws(CodeSageError) -> OpaquePointer? {
        if let statement = statements[sql] { return statement }
        let statement = try prepare(sql)
        if statements.count >= Self.statementCacheLimit {
            for old in statements.values { sqlite3_finalize(old) }
            statements.removeAll()
        }
        if let statement { statements[sql] = statement }
        return statement
    }

    /// Prepared statements cached now (for tests).
    var cachedStatementCount: Int { statements.count }

    private var errorMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// The project's error code for an SQLite result: a damaged file is corrupt data (exit 65, and what
    /// `index --rebuild` replaces), a full disk or an I/O failure is an I/O error (exit 74: the file is
    /// fine, the disk is not), a lock held elsewhere is busy; anything else is a native failure.
    static func code(of status: Int32) -> CodeSageError.Code {
        switch status & 0xff {
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corruptData
        case SQLITE_FULL, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY: .io
        case SQLITE_BUSY, SQLITE_LOCKED: .busy
        default: .native
        }
    }

    private func prepare(_ sql: String) throws(CodeSageError) -> OpaquePointer? {
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard status == SQLITE_OK else {
            throw CodeSageError(Self.code(of: status), "SQLite prepare (\(path)): \(errorMessage) in: \(sql)")
        }
        return statement
    }

    private func bind(_ value: SQLiteValue, at index: Int32, in statement: OpaquePointer?) throws(CodeSageError) {
        let status: Int32
        switch value {
        case .null: status = sqlite3_bind_null(statement, index)
        case .integer(let number): status = sqlite3_bind_int64(statement, index, number)
        case .real(let number): status = sqlite3_bind_double(statement, index, number)
        case .text(let text): status = sqlite3_bind_text(statement, index, text, -1, transient)
        case .blob(let bytes):
            status = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
        }
        guard status == SQLITE_OK else { throw CodeSageError(.native, "SQLite bind ?\(index) (\(path)): \(errorMessage)") }
    }

    private func column(at index: Int32, in statement: OpaquePointer?) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let base = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
        default: return .null
        }
    }
}
