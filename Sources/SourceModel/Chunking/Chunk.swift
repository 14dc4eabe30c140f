/// A span of source lines that is embedded and searched as one unit.
public struct Chunk: Sendable, Equatable {
    /// The first line, 1-based.
    public var startLine: Int
    /// The last line, 1-based and inclusive.
    public var endLine: Int
    /// The qualified name of the definition; nil for module-level code and line windows.
    public var symbol: String?
    /// The kind of the definition, if the chunk is (part of) one.
    public var kind: DefinitionKind?
    /// The definition's header text, if the chunk is (part of) one.
    public var signature: String?
    /// Exactly the source lines `startLine...endLine` joined with "\n" (a trailing "\r" of each line dropped).
    public var text: String
    /// The number of word pieces of `text`, without `[CLS]`/`[SEP]`.
    public var tokenCount: Int
    /// Whether `tokenCount` exceeds the budget, so the model will only read the head.
    public var truncated: Bool
    /// Which part of a split definition this is, from 1.
    public var part: Int
    /// How many parts the definition was split into (1 when not split).
    public var partCount: Int

    /// Creates a chunk from all of its fields.
    public init(startLine: Int, endLine: Int, symbol: String?, kind: DefinitionKind?, signature: String?,
                text: String, tokenCount: Int, truncated: Bool, part: Int = 1, partCount: Int = 1) {
        self.startLine = startLine
        self.endLine = endLine
        self.symbol = symbol
        self.kind = kind
        self.signature = signature
        self.text = text
        self.tokenCount = tokenCount
        self.truncated = truncated
        self.part = part
        self.partCount = partCount
    }
}
