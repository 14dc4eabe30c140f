import Testing
@testable import IndexStore
@testable import Indexing
@testable import SourceModel

@Suite("Search terms")
struct SearchTermsTests {
    @Test("identifiers are kept whole and split at case, underscore and digit boundaries")
    func splitting() {
        #expect(SearchTerms.terms(of: "getCurrentContext") == ["getcurrentcontext", "get", "current", "context"])
        #expect(SearchTerms.terms(of: "get_current_context") == ["get_current_context", "get", "current", "context"])
        #expect(SearchTerms.terms(of: "HTTPServer2x") == ["httpserver2x", "http", "server", "2", "x"])
        #expect(SearchTerms.terms(of: "__init__(self)") == ["init", "self"])
        #expect(SearchTerms.terms(of: "a+b  é") == ["a", "b", "é"])
    }

    @Test("queries become quoted OR terms without stop words; FTS5 syntax in input is inert")
    func matchExpressions() {
        #expect(SearchTerms.matchExpression(for: "Returns the current context") == "\"returns\" OR \"current\" OR \"context\"")
        #expect(SearchTerms.matchExpression(for: "the") == "\"the\"")
        #expect(SearchTerms.matchExpression(for: "  -- ** \"") == nil)
        #expect(SearchTerms.matchExpression(for: "NEAR(a b) AND c*") == "\"near\" OR \"b\" OR \"c\"")
    }
}

@Suite("Embedded texts")
struct ChunkTextTests {
    @Test("a definition's code text names it in words; its summary is kind, words and signature")
    func texts() {
        #expect(ChunkText.forEmbedding(path: "src/a.py", symbol: "Context.getCurrentContext", kind: "method", code: "def f(): pass")
                == "src/a.py\nmethod Context.getCurrentContext — context get current context\ndef f(): pass")
        #expect(ChunkText.forEmbedding(path: "README.md", symbol: nil, kind: nil, code: "# Title") == "README.md\n# Title")
        #expect(ChunkText.summary(symbol: "parse_args", kind: "function", signature: "def parse_args(argv)") == "function parse args: def parse_args(argv)")
        #expect(ChunkText.summary(symbol: nil, kind: nil, signature: nil) == nil)
    }
}
