import Foundation
import Testing
@testable import Embedding

/// Expected ids from the reference HF fast tokenizer (tokenizers 0.23.3, truncation 256, no padding).
@Suite("BertTokenizer edge cases")
struct TokenizerTests {
    static let cases: [(String, [Int32])] = [
        ("", [101, 102]),
        ("   \t\n ", [101, 102]),
        (String(repeating: "x", count: 101), [101, 100, 102]),
        ("中文字符", [101, 1746, 1861, 100, 100, 102]),
        ("café naïve ÀÉÎ", [101, 7668, 15743, 29347, 2072, 102]),
        ("a\u{0}b\u{7}c\u{200B}d\u{FFFD}e", [101, 5925, 3207, 102]),
        ("🚀👍🏽", [101, 100, 102]),
        ("İstanbul ΣΑΣ", [101, 9960, 1173, 14608, 29733, 102]),
        ("getUserById(snake_case)", [101, 2131, 20330, 3762, 3593, 1006, 7488, 1035, 2553, 1007, 102]),
        // U+2B820 is not CJK for the reference (its table starts that block at U+2B920).
        ("\u{2B820}\u{2B920}", [101, 100, 100, 102]),
        // Precomposed Hangul is decomposed to jamo; ǅ lower-cases to ǆ, absent from the vocabulary.
        ("ǅ ᄀ 한국", [101, 100, 1455, 1469, 30006, 30021, 29991, 30014, 30020, 102]),
    ]

    @Test("reference ids", arguments: cases)
    func referenceIDs(text: String, ids: [Int32]) throws {
        let tokenizer = try #require(TestSupport.tokenizer)
        let enc = tokenizer.encode(text)
        #expect(enc.ids == ids, "\(text.debugDescription): \(enc.ids.map { tokenizer.token(for: $0) })")
        #expect(!enc.truncated)
    }

    @Test("a 100-scalar word is split, a 101-scalar word is one [UNK]")
    func longWords() throws {
        let tokenizer = try #require(TestSupport.tokenizer)
        let hundred = tokenizer.encode(String(repeating: "x", count: 100))
        #expect(hundred.ids.count == 52)
        #expect(hundred.ids[1] == 22038)  // "xx"
        // Scalars, not Characters: 60 "e" + 60 combining accents = 60 Characters but 120 scalars,
        // yet the accents are stripped first, so the word has 60 scalars and is split normally.
        let accented = tokenizer.encode(String(repeating: "e\u{301}", count: 60))
        #expect(accented.ids != [101, 100, 102])
        // 101 scalars in fewer Characters (emoji with skin-tone modifiers) → [UNK].
        let emoji = String(repeating: "a", count: 99) + "👍🏽"
        #expect(tokenizer.encode(emoji).ids == [101, 100, 102])
    }

    @Test("truncation keeps 254 pieces plus [CLS]/[SEP] and sets the flag")
    func truncation() throws {
        let tokenizer = try #require(TestSupport.tokenizer)
        let enc = tokenizer.encode(String(repeating: "word ", count: 300))
        #expect(enc.ids.count == 256)
        #expect(enc.truncated)
        #expect(enc.ids.first == 101 && enc.ids.last == 102)
        let exact = tokenizer.encode(String(repeating: "word ", count: 254))
        #expect(exact.ids.count == 256 && !exact.truncated)
        let small = tokenizer.encode("a b c d", maxLength: 4)
        #expect(small.ids.count == 4 && small.truncated)
        // A 1 MB string is tokenised quickly (stops at the budget) and truncated.
        let huge = tokenizer.encode(String(repeating: "abc def ", count: 131_072))
        #expect(huge.ids.count == 256 && huge.truncated)
    }

    @Test("word pieces")
    func pieces() throws {
        let tokenizer = try #require(TestSupport.tokenizer)
        #expect(tokenizer.wordPieces("parse thread-safe") == ["par", "##se", "thread", "-", "safe"])
    }
}
