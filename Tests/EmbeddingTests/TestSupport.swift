import CodeSageCore
import Foundation
import Testing
@testable import Embedding

/// Paths and shared fixtures of the tests.
enum TestSupport {
    /// The package root (three levels above this file).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The model folder, as the configuration resolves it (`CODESAGE_MODEL_PATH` or the default that scripts/setup fills).
    static let modelDirectory: URL = {
        let configuration = try? Configuration(environment: ProcessInfo.processInfo.environment,
                                               home: NSHomeDirectory(), onlineCPUs: 1)
        return URL(fileURLWithPath: configuration?.modelPath ?? NSHomeDirectory() + "/.cache/codesage/models/all-MiniLM-L6-v2")
    }()

    /// Whether the model files are there.
    static let modelAvailable = FileManager.default.fileExists(atPath: modelDirectory.appendingPathComponent("model.safetensors").path)

    /// `CODESAGE_GOLDEN_PATH`, else the copy committed with the tests, `Tests/golden/minilm_golden_public.json`
    /// (the reference outputs of the PyPI model; see Tests/golden/README.md).
    static let goldenURL: URL = {
        if let p = ProcessInfo.processInfo.environment["CODESAGE_GOLDEN_PATH"] { return URL(fileURLWithPath: p) }
        return packageRoot.appendingPathComponent("Tests/golden/minilm_golden_public.json")
    }()


    struct GoldenItem: Decodable {
        let text: String
        let input_ids: [Int32]
        let embedding: [Float]
    }

    struct GoldenFile: Decodable { let items: [GoldenItem] }

    static func golden() throws -> [GoldenItem] {
        try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: goldenURL)).items
    }

    /// One fp32 encoder shared by the tests (loading is cheap, but mapping once is enough).
    static let encoder: Encoder? = modelAvailable ? try? Encoder(modelDirectory: modelDirectory) : nil

    static let tokenizer: BertTokenizer? = modelAvailable
        ? try? BertTokenizer(vocabURL: modelDirectory.appendingPathComponent("vocab.txt")) : nil

    /// A fresh temporary directory.
    static func tempDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("embedding-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}

/// Expects `body` to throw a CodeSageError whose message is exactly `message` (shows the message on mismatch).
func expect(throwsMessage message: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error \"\(message)\", nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as CodeSageError {
        #expect(error.message == message, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a CodeSageError, got \(error)", sourceLocation: sourceLocation)
    }
}
