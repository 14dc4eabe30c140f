/// The token ids of one text, as the model sees them.
public struct TokenizedText: Sendable, Equatable, Hashable {
    /// `[CLS]`, the word pieces, `[SEP]`.
    public var ids: [Int32]
    /// Whether word pieces were dropped to fit the maximum length.
    public var truncated: Bool

    /// Creates a tokenised text from its ids and truncation flag.
    public init(ids: [Int32], truncated: Bool) {
        self.ids = ids
        self.truncated = truncated
    }
}
