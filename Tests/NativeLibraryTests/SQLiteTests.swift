import Foundation
import Platform
import Testing
@testable import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel

@Suite("SQLite with FTS5")
struct SQLiteTests {
    @Test("WAL mode, FTS5 full-text search ranked by BM25, transactions")
    func fts5() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let database = try SQLiteDatabase(path: "\(folder)/meta.sqlite")
        try database.enableWriteAheadLog()
        try database.execute("CREATE VIRTUAL TABLE chunks USING fts5(path UNINDEXED, body)")
        let rows: [(String, String)] = [
            ("a.swift", "func parseArguments parse arguments from the command line"),
            ("b.py", "def read_config load configuration from a file"),
            ("c.go", "func main starts the server and parses flags parse parse"),
        ]
        try database.transaction { () throws(CodeSageError) in
            for (path, body) in rows {
                try database.query("INSERT INTO chunks(path, body) VALUES (?1, ?2)", [.text(path), .text(body)])
            }
        }
        let hits = try database.query("SELECT path, bm25(chunks) FROM chunks WHERE chunks MATCH ?1 ORDER BY bm25(chunks)", [.text("parse")])
        #expect(hits.map { $0[0] } == [.text("c.go"), .text("a.swift")])
        let none = try database.query("SELECT path FROM chunks WHERE chunks MATCH ?1", [.text("nonexistentword")])
        #expect(none.isEmpty)
    }

    @Test("a failed transaction rolls back; SQL errors are CodeSageErrors")
    func rollback() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let database = try SQLiteDatabase(path: "\(folder)/t.sqlite")
        try database.execute("CREATE TABLE t(x INTEGER)")
        #expect(throws: CodeSageError.self) {
            try database.transaction { () throws(CodeSageError) in
                try database.query("INSERT INTO t VALUES (1)")
                try database.query("INSERT INTO missing VALUES (1)")
            }
        }
        #expect(try database.query("SELECT count(*) FROM t") == [[.integer(0)]])
        let blob: [UInt8] = [0, 1, 2, 255]
        try database.query("INSERT INTO t VALUES (?1)", [.blob(blob)])
        #expect(try database.query("SELECT x FROM t") == [[.blob(blob)]])
    }

    @Test("a file that is not a database is reported")
    func notADatabase() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/junk.sqlite"
        try FileSystem.writeDurably(Array(repeating: 0x41, count: 4096), to: path)
        let database = try SQLiteDatabase(path: path)
        #expect { try database.query("SELECT * FROM sqlite_master") } throws: { error in
            "\(error)".contains("not a database")
        }
    }
}
