import CodeSageCore
@testable import IndexStore
@testable import Indexing
@testable import SourceModel

/// A stand-in model for tests of the pipeline above the model: each search term adds one to a
/// dimension picked by its hash, and the vector is normalised. Texts sharing words are close.
/// (Benchmarks and retrieval figures always use the real model.)
final class WordHashEmbedder: TextEmbedder, @unchecked Sendable {
    let identity: String
    let dimension = 64
    let maxTokens = 256
    private(set) var embeddedTexts = 0

    init(identity: String = "word-hash/test") { self.identity = identity }

    func countTokens(_ text: Substring) -> Int { SearchTerms.terms(of: text).count }

    func embed(_ texts: [String]) throws(CodeSageError) -> [[Float]] {
        embeddedTexts += texts.count
        return texts.map { text in
            var vector = [Float](repeating: 0, count: dimension)
            for term in SearchTerms.terms(of: text) {
                var hash: UInt64 = 1469598103934665603
                for byte in term.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
                vector[Int(hash % UInt64(dimension))] += 1
            }
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? vector.map { $0 / norm } : vector
        }
    }
}
