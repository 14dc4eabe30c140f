/// What indexing and search need from a sentence-embedding model.
public protocol TextEmbedder: Sendable {
    /// Identity of the model and its precision; part of every embedding-cache key, so a
    /// different model or precision never reuses another's vectors.
    var identity: String { get }
    /// Vector length.
    var dimension: Int { get }
    /// Most word pieces the model reads, [CLS] and [SEP] included.
    var maxTokens: Int { get }
    /// Word pieces of `text`, without [CLS]/[SEP].
    func countTokens(_ text: Substring) -> Int
    /// L2-normalised embeddings of `texts`, in input order.
    func embed(_ texts: [String]) throws(CodeSageError) -> [[Float]]
    /// Vectors this model holds in memory for cache keys (SHA-256 of identity + text), consulted
    /// for what the persistent cache lacks; none by default.
    func cachedVectors(_ keys: [[UInt8]]) -> [[UInt8]: [Float]]
}

extension TextEmbedder {
    public func cachedVectors(_ keys: [[UInt8]]) -> [[UInt8]: [Float]] { [:] }
}

