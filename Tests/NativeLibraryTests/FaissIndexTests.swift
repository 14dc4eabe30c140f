import Foundation
import Platform
import Testing
@testable import CodeSageCore
@testable import VectorIndex

/// Deterministic unit vectors (a fixed-seed generator: FAISS results must be reproducible).
func unitVectors(count: Int, dimension: Int, seed: UInt64) -> [Float] {
    var state = seed
    var values = [Float](repeating: 0, count: count * dimension)
    for row in 0..<count {
        var norm: Float = 0
        for column in 0..<dimension {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let value = Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
            values[row * dimension + column] = value
            norm += value * value
        }
        let scale = 1 / norm.squareRoot()
        for column in 0..<dimension { values[row * dimension + column] *= scale }
    }
    return values
}

@Suite("FAISS through the C++ shim")
struct FaissIndexTests {
    let dimension = 32

    @Test("train, add, search, write, read memory-mapped: the same answers", arguments: ["IVF1,Flat", "IVF4,SQ8"])
    func roundTrip(description: String) throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let vectors = unitVectors(count: 500, dimension: dimension, seed: 7)

        let index = try FaissIndex(dimension: dimension, description: description)
        #expect(!index.isMemoryMapped)
        try index.train(vectors)
        #expect(index.isTrained)
        try index.add(vectors)
        #expect(index.count == 500)
        try index.setProbeCount(4)

        let queries = Array(vectors[(10 * dimension)..<(13 * dimension)])
        let inMemory = try index.search(queries, k: 5)
        #expect(inMemory.count == 3)
        for (offset, hits) in inMemory.enumerated() {
            #expect(hits.first?.id == Int64(10 + offset), "a stored vector finds itself first")
            #expect(abs((hits.first?.score ?? 0) - 1) < 0.02)
        }

        let path = "\(folder)/index.faiss"
        try index.write(to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["index.faiss"], "no temporary file is left")

        let mapped = try FaissIndex.read(path: path, memoryMapped: true)
        #expect(mapped.isMemoryMapped)
        #expect(mapped.count == 500)
        try mapped.setProbeCount(4)
        #expect(try mapped.search(queries, k: 5) == inMemory)

        let loaded = try FaissIndex.read(path: path, memoryMapped: false)
        #expect(!loaded.isMemoryMapped)
        try loaded.setProbeCount(4)
        #expect(try loaded.search(queries, k: 5) == inMemory)
    }

    @Test("explicit ids come back from search")
    func explicitIDs() throws {
        let vectors = unitVectors(count: 50, dimension: dimension, seed: 3)
        let index = try FaissIndex(dimension: dimension, description: "IVF1,Flat")
        try index.train(vectors)
        try index.add(vectors, ids: (0..<50).map { Int64(1000 + $0) })
        let hits = try index.search(Array(vectors[0..<dimension]), k: 1)
        #expect(hits[0].first?.id == 1000)
    }

    @Test("errors are reported, not thrown through C")
    func errors() throws {
        #expect { try FaissIndex(dimension: dimension, description: "NoSuchIndex42") } throws: { error in
            (error as? CodeSageError)?.code == .native && "\(error)".contains("index_factory")
        }
        let flat = try FaissIndex(dimension: dimension, description: "Flat")
        #expect { try flat.setProbeCount(2) } throws: { ($0 as? CodeSageError)?.code == .unavailable }
        #expect { try flat.search([1, 2, 3], k: 1) } throws: { ($0 as? CodeSageError)?.code == .invalidArgument }
        let untrained = try FaissIndex(dimension: dimension, description: "IVF4,Flat")
        #expect(throws: CodeSageError.self) { try untrained.add(unitVectors(count: 2, dimension: dimension, seed: 1)) }
    }

    @Test("a damaged or missing file is reported with its name")
    func damagedFile() throws {
        let folder = try FileSystem.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let index = try FaissIndex(dimension: dimension, description: "IVF1,Flat")
        let vectors = unitVectors(count: 20, dimension: dimension, seed: 9)
        try index.train(vectors)
        try index.add(vectors)
        let path = "\(folder)/index.faiss"
        try index.write(to: path)
        let bytes = try FileSystem.readFile(path)
        try FileSystem.writeDurably(Array(bytes.prefix(bytes.count / 2)), to: path)
        #expect { try FaissIndex.read(path: path, memoryMapped: true) } throws: { error in
            (error as? CodeSageError)?.code == .corruptData && "\(error)".contains(path)
        }
        #expect { try FaissIndex.read(path: "\(folder)/absent.faiss", memoryMapped: false) } throws: { error in
            (error as? CodeSageError)?.code == .io && "\(error)".contains("absent.faiss")
        }
    }
}
