import Caching
import CodeSageCore
import Foundation
import Glibc
import Platform
import Testing

@Suite("File cache")
struct FileCacheTests {
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "codesage-filecache-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test("serves unchanged files from memory, compressed, under every codec", arguments: [CacheCompression.lz4, .zstd, .none])
    func hits(codec: CacheCompression) throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a.py"
        let text = String(repeating: "def f(x):\n    return x + 1\n", count: 200)
        try Self.write(text, to: path)
        Thread.sleep(forTimeInterval: 0.1)  // past the racy window
        let cache = FileCache(maxEntries: 10, compression: codec)
        #expect(try cache.contents(of: path) == .bytes(Array(text.utf8)))
        #expect(try cache.contents(of: path) == .bytes(Array(text.utf8)))
        let s = cache.statistics()
        #expect(s.hits == 1 && s.misses == 1 && s.entries == 1)
        if codec == .none { #expect(s.bytes > text.utf8.count) } else { #expect(s.bytes < text.utf8.count / 4) }
    }

    @Test("an edit is never served stale: same size, same mtime set back, atomic replace, quick rewrites")
    func neverStale() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/b.swift"
        let cache = FileCache(maxEntries: 10)
        try Self.write("let a = 1\n", to: path)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(try cache.contents(of: path) == .bytes(Array("let a = 1\n".utf8)))
        // Same size, and the modification time put back to what it was: the change time still moves.
        let before = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
        try Self.write("let a = 2\n", to: path)
        try FileManager.default.setAttributes([.modificationDate: before], ofItemAtPath: path)
        #expect(try cache.contents(of: path) == .bytes(Array("let a = 2\n".utf8)))
        // Replaced by rename (new inode).
        try Self.write("let a = 3\n", to: path + ".tmp")
        #expect(rename(path + ".tmp", path) == 0)
        #expect(try cache.contents(of: path) == .bytes(Array("let a = 3\n".utf8)))
        // Many rewrites in quick succession, each read right after: always the latest text.
        for i in 0..<200 {
            let text = "let a = \(i % 10)\n"
            try Self.write(text, to: path)
            #expect(try cache.contents(of: path) == .bytes(Array(text.utf8)))
        }
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: CodeSageError.self) { try cache.contents(of: path) }
    }

    @Test("files over maxSize are reported, not read or cached")
    func tooLarge() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write(String(repeating: "x", count: 5_000), to: dir + "/big.txt")
        let cache = FileCache(maxEntries: 10)
        #expect(try cache.contents(of: dir + "/big.txt", maxSize: 1_000) == .tooLarge(5_000))
        #expect(cache.statistics().entries == 0)
    }
}
