import Platform
import CodeSageCore

/// A model with an in-memory LRU of vectors in front of it, keyed like the persistent embedding
/// cache (SHA-256 of the model identity and the text), so a repeated query or an unchanged chunk
/// is never embedded twice while it stays cached.
///
/// The model itself is fetched through `model` at each call that needs it, so it can be unloaded
/// (model cache TTL, memory cleanup) while this wrapper, and the vectors, stay.
public final class CachingEmbedder: TextEmbedder {
    /// The vectors, by cache key.
    public let cache: LRUCache<[UInt8], [Float]>
    public let identity: String
    public let dimension: Int
    public let maxTokens: Int
    private let model: @Sendable () throws(CodeSageError) -> any TextEmbedder

    /// Wraps the model that `model` returns (loading it if needed); `first` is one such model, whose
    /// identity, dimension and token limit the wrapper keeps. `cache` holds the vectors.
    public init(first: any TextEmbedder, cache: LRUCache<[UInt8], [Float]>,
                model: @escaping @Sendable () throws(CodeSageError) -> any TextEmbedder) {
        identity = first.identity
        dimension = first.dimension
        maxTokens = first.maxTokens
        self.cache = cache
        self.model = model
    }

    /// The cache key of `text` for this model (the persistent cache's key too).
    public func key(_ text: String) -> [UInt8] { ContentHash.of(parts: identity, text) }

    /// The model's count; if the model cannot be loaded, the UTF-8 length (an upper bound on word
    /// pieces), since this call cannot throw — the embedding that follows reports the load failure.
    public func countTokens(_ text: Substring) -> Int {
        (try? model().countTokens(text)) ?? text.utf8.count
    }

    public func embed(_ texts: [String]) throws(CodeSageError) -> [[Float]] {
        let keys = texts.map(key)
        var vectors: [[Float]?] = keys.map { cache.value(forKey: $0) }
        let missing = vectors.indices.filter { vectors[$0] == nil }
        if !missing.isEmpty {
            let computed = try model().embed(missing.map { texts[$0] })
            for (i, vector) in zip(missing, computed) {
                vectors[i] = vector
                remember(vector, key: keys[i])
            }
        }
        return vectors.map { $0 ?? [] }
    }

    public func cachedVectors(_ keys: [[UInt8]]) -> [[UInt8]: [Float]] {
        var found: [[UInt8]: [Float]] = [:]
        for key in keys { if let v = cache.value(forKey: key) { found[key] = v } }
        return found
    }

    /// Stores `vector` under `key`.
    public func remember(_ vector: [Float], key: [UInt8]) {
        cache.insert(vector, forKey: key, cost: vector.count * MemoryLayout<Float>.size + key.count)
    }
}
