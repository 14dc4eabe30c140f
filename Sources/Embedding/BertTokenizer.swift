import Foundation

/// The BERT uncased tokenizer of all-MiniLM-L6-v2, matching the HF fast tokenizer
/// (BertNormalizer + BertPreTokenizer + WordPiece, `[CLS] … [SEP]`, truncation to the
/// model's max length) token for token.
public final class BertTokenizer: Sendable {
    /// Id of `[CLS]`.
    public let clsID: Int32
    /// Id of `[SEP]`.
    public let sepID: Int32
    /// Id of `[PAD]`.
    public let padID: Int32
    /// Id of `[UNK]`.
    public let unkID: Int32
    /// Whether text is lower-cased and accent-stripped (the model's `do_lower_case`).
    public let doLowerCase: Bool
    /// Number of entries in the vocabulary.
    public let vocabularySize: Int

    private let normalizer: BertNormalizer
    private let wordPiece: WordPiece
    private let tokens: [String]

    /// Loads `vocab.txt` (one token per line, id = line number); `do_lower_case` is read from
    /// `tokenizer_config.json` beside it when present (default `true`).
    public convenience init(vocabURL: URL) throws {
        let configURL = vocabURL.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        var lower = true
        if let data = try? Data(contentsOf: configURL),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let flag = json["do_lower_case"] as? Bool {
            lower = flag
        }
        guard let data = try? Data(contentsOf: vocabURL), let text = String(data: data, encoding: .utf8) else {
            throw EmbeddingError.io("cannot read vocabulary \(vocabURL.path)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        if lines.last == "" { lines.removeLast() }
        try self.init(vocabulary: lines, doLowerCase: lower)
    }

    /// Builds a tokenizer from the vocabulary tokens in id order.
    public init(vocabulary: [String], doLowerCase: Bool = true) throws {
        guard doLowerCase else {
            throw EmbeddingError.invalidConfig("only do_lower_case = true (uncased BERT) is supported")
        }
        // Bytes, not Characters: in "##ो" the second "#" and the vowel sign form one grapheme.
        var initial: [WordPiece.Key: Int32] = [:], continuation: [WordPiece.Key: Int32] = [:]
        initial.reserveCapacity(vocabulary.count)
        for (i, token) in vocabulary.enumerated() {
            let utf8 = token.utf8
            if utf8.starts(with: "##".utf8) {
                let rest = String(decoding: utf8.dropFirst(2), as: UTF8.self)
                if continuation[WordPiece.Key(rest)] == nil { continuation[WordPiece.Key(rest)] = Int32(i) }
            } else if initial[WordPiece.Key(token)] == nil {
                initial[WordPiece.Key(token)] = Int32(i)
            }
        }
        func id(_ t: String) throws -> Int32 {
            guard let v = initial[WordPiece.Key(t)] else { throw EmbeddingError.invalidConfig("vocabulary has no \(t) token") }
            return v
        }
        clsID = try id("[CLS]"); sepID = try id("[SEP]"); padID = try id("[PAD]"); unkID = try id("[UNK]")
        self.doLowerCase = doLowerCase
        vocabularySize = vocabulary.count
        tokens = vocabulary
        normalizer = BertNormalizer()
        wordPiece = WordPiece(initial: initial, continuation: continuation, unkID: unkID, maxInputCharsPerWord: 100)
    }

    /// Tokenises `text` into `[CLS] pieces… [SEP]`, keeping at most `maxLength` ids in all
    /// (so `maxLength - 2` word pieces); `truncated` tells whether pieces were dropped.
    public func encode(_ text: String, maxLength: Int = 256) -> TokenizedText {
        let budget = max(maxLength, 2) - 2
        var ids: [Int32] = [clsID]
        ids.reserveCapacity(min(text.utf8.count, budget) + 2)
        var truncated = false
        normalizer.forEachWord(in: text) { word in
            wordPiece.tokenize(word, into: &ids)
            if ids.count - 1 > budget {
                truncated = true
                return false
            }
            return true
        }
        if truncated { ids.removeSubrange((budget + 1)...) }
        ids.append(sepID)
        return TokenizedText(ids: ids, truncated: truncated)
    }

    /// The word pieces of `text` as strings, without `[CLS]`/`[SEP]` and without truncation.
    public func wordPieces(_ text: String) -> [String] {
        var ids: [Int32] = []
        normalizer.forEachWord(in: text) { word in
            wordPiece.tokenize(word, into: &ids)
            return true
        }
        return ids.map { token(for: $0) }
    }

    /// Number of word pieces of `text` (no [CLS]/[SEP], no truncation): what a chunk costs of the model's budget.
    public func tokenCount(_ text: String) -> Int {
        var ids: [Int32] = []
        normalizer.forEachWord(in: text) { word in
            wordPiece.tokenize(word, into: &ids)
            return true
        }
        return ids.count
    }

    /// The vocabulary entry of `id` (`"<id>"` when out of range).
    public func token(for id: Int32) -> String {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : "<\(id)>"
    }
}
