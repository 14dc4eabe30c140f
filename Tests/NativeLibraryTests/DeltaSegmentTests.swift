import Foundation
import Platform
import Testing
@testable import CodeSageCore
@testable import VectorIndex

/// The exact inner-product top k of `query` over `rows` (id, vector) pairs: the naive kernel the fast paths are held to.
func exactTop(_ k: Int, query: ArraySlice<Float>, rows: [(id: Int64, vector: ArraySlice<Float>)]) -> [Int64] {
    var scored: [(id: Int64, score: Float)] = []
    for row in rows {
        var score: Float = 0
        for (a, b) in zip(query, row.vector) { score += a * b }
        scored.append((row.id, score))
    }
    scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
    return scored.prefix(k).map(\.id)
}

@Suite("Delta segments and tombstones: the incremental half of a generation's vectors")
struct DeltaSegmentTests {
    let dimension = 32

    @Test("a segment round-trips through its file; its search is the exact top k")
    func roundTrip() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let vectors = unitVectors(count: 300, dimension: dimension, seed: 11)
        let ids = (0..<300).map { Int64(10_000 + $0 * 3) }
        try DeltaSegment.write(ids: ids, vectors: vectors, tombstones: [9, 4, 7], pending: [30, 20], dimension: dimension, to: folder + "/d.vec")
        let segment = try DeltaSegment(path: folder + "/d.vec", dimension: dimension)
        #expect(Array(segment.ids) == ids)
        #expect(Array(segment.tombstones) == [4, 7, 9])
        #expect(Array(segment.pending) == [30, 20])
        #expect(Array(segment.vectors) == vectors)
        let rows = ids.enumerated().map { (id: $0.element, vector: vectors[($0.offset * dimension)..<(($0.offset + 1) * dimension)]) }
        for q in 0..<20 {
            let query = Array(vectors[(q * 7 * dimension)..<((q * 7 + 1) * dimension)])
            let hits = try segment.search(query, k: 10)
            #expect(hits.map(\.id) == exactTop(10, query: query[...], rows: rows))
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
        // k past the row count returns every row; an empty segment (tombstones only) returns nothing.
        #expect(try segment.search(Array(vectors[0..<dimension]), k: 1_000).count == 300)
        try DeltaSegment.write(ids: [], vectors: [], tombstones: [1], dimension: dimension, to: folder + "/e.vec")
        #expect(try DeltaSegment(path: folder + "/e.vec", dimension: dimension).search(Array(vectors[0..<dimension]), k: 5).isEmpty)
    }

    @Test("a truncated, overwritten or mis-sized segment is corrupt data, never a crash")
    func damage() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = try DeltaSegment.encode(ids: [1, 2], vectors: unitVectors(count: 2, dimension: dimension, seed: 3), tombstones: [5],
                                           pending: [8], dimension: dimension)
        var cases: [(String, [UInt8])] = [("truncated", Array(good.dropLast(4))), ("header only", Array(good.prefix(20))),
                                          ("grown", good + [0, 0, 0, 0])]
        var magic = good; magic[0] = 0x58; cases.append(("magic", magic))
        var huge = good; for i in 16..<24 { huge[i] = 0xff }; cases.append(("count", huge))
        var tombstones = good; tombstones[24] = 200; cases.append(("tombstones", tombstones))
        var pending = good; pending[32] = 9; cases.append(("pending", pending))
        for (name, bytes) in cases {
            try FileSystem.writeDurably(bytes, to: folder + "/\(name).vec")
            #expect(throws: CodeSageError.self, "\(name)") { _ = try DeltaSegment(path: folder + "/\(name).vec", dimension: dimension) }
            do { _ = try DeltaSegment(path: folder + "/\(name).vec", dimension: dimension) } catch { #expect(error.code == .corruptData) }
        }
        try FileSystem.writeDurably(good, to: folder + "/good.vec")
        do { _ = try DeltaSegment(path: folder + "/good.vec", dimension: 64); Issue.record("dimension mismatch accepted") } catch {
            #expect(error.code == .corruptData && error.message.contains("dimension"))
        }
    }

    @Test("excluded ids never come back from a base search, and k others still do", arguments: ["IVF1,Flat", "IVF8,Flat", "IVF8,SQ8"])
    func exclusion(description: String) throws {
        let vectors = unitVectors(count: 1_000, dimension: dimension, seed: 5)
        let index = try FaissIndex(dimension: dimension, description: description)
        try index.train(vectors)
        try index.add(vectors, ids: (0..<1_000).map { Int64($0) })
        try index.setProbeCount(8)
        let excluded = Set((0..<1_000).filter { $0 % 3 == 0 }.map { Int64($0) })
        let selector = try ExcludedIDs(excluded)
        for q in 0..<30 {
            let query = Array(vectors[(q * 31 * dimension)..<((q * 31 + 1) * dimension)])
            let all = try index.search(query, k: 100).first!
            let filtered = try index.search(query, k: 20, excluding: selector).first!
            #expect(filtered.count == 20)
            #expect(filtered.allSatisfy { !excluded.contains($0.id) })
            // The same ranking as the unfiltered one with the excluded ids taken out.
            #expect(filtered.map(\.id) == Array(all.filter { !excluded.contains($0.id) }.prefix(20).map(\.id)))
        }
    }

    @Test("base minus tombstones plus delta answers as an exact search of what is visible")
    func segmented() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let baseVectors = unitVectors(count: 600, dimension: dimension, seed: 21)
        let base = try FaissIndex(dimension: dimension, description: "IVF1,Flat")
        try base.train(baseVectors)
        try base.add(baseVectors, ids: (0..<600).map { Int64($0) })
        let tombstones = (0..<600).filter { $0 % 4 == 1 }.map { Int64($0) }
        let deltaVectors = unitVectors(count: 150, dimension: dimension, seed: 22)
        let deltaIDs = (0..<150).map { Int64(1_000 + $0) }
        try DeltaSegment.write(ids: deltaIDs, vectors: deltaVectors, tombstones: tombstones, dimension: dimension, to: folder + "/d.vec")
        let segments = try SegmentedVectors(base: base, delta: try DeltaSegment(path: folder + "/d.vec", dimension: dimension))
        #expect(segments.count == 600 - tombstones.count + 150)

        let dead = Set(tombstones)
        var visible: [(id: Int64, vector: ArraySlice<Float>)] = (0..<600).filter { !dead.contains(Int64($0)) }
            .map { (id: Int64($0), vector: baseVectors[($0 * dimension)..<(($0 + 1) * dimension)]) }
        visible += deltaIDs.enumerated().map { (id: $0.element, vector: deltaVectors[($0.offset * dimension)..<(($0.offset + 1) * dimension)]) }
        for q in 0..<25 {
            let query = Array((q % 2 == 0 ? baseVectors : deltaVectors)[(q * 5 * dimension)..<((q * 5 + 1) * dimension)])
            #expect(try segments.search(query, k: 10).map(\.id) == exactTop(10, query: query[...], rows: visible))
        }
    }

    @Test("merging keeps the best k of two sorted lists")
    func merge() {
        let a = [FaissIndex.Hit(id: 1, score: 0.9), FaissIndex.Hit(id: 2, score: 0.5), FaissIndex.Hit(id: 3, score: 0.1)]
        let b = [FaissIndex.Hit(id: 7, score: 0.7), FaissIndex.Hit(id: 8, score: 0.5)]
        #expect(SegmentedVectors.merge(a, b, k: 4).map(\.id) == [1, 7, 2, 8])
        #expect(SegmentedVectors.merge([], b, k: 5).map(\.id) == [7, 8])
        #expect(SegmentedVectors.merge(a, [], k: 2).map(\.id) == [1, 2])
    }
}
