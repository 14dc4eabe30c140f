import CodeSageCore
import Foundation
import Testing
@testable import Embedding
@testable import IndexStore
@testable import Indexing
@testable import SourceModel

/// Fixtures and helpers of the chunking tests.
enum ChunkingFixtures {
    /// One token per whitespace-separated word: deterministic budgets.
    static let wordCount: @Sendable (Substring) -> Int = { text in
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\r\n" }).count
    }

    /// The real tokenizer from the configured model folder, if its vocabulary is there.
    static let tokenizer: BertTokenizer? = {
        let configuration = try? Configuration(environment: ProcessInfo.processInfo.environment,
                                               home: NSHomeDirectory(), onlineCPUs: 1)
        let folder = configuration?.modelPath ?? NSHomeDirectory() + "/.cache/codesage/models/all-MiniLM-L6-v2"
        return try? BertTokenizer(vocabURL: URL(fileURLWithPath: folder).appendingPathComponent("vocab.txt"))
    }()

    /// (qualified name, kind, start line, header line, end line) of each definition.
    static func spans(_ text: String, _ language: Language) -> [String] {
        DefinitionParser.definitions(in: text, language: language).map {
            "\($0.qualifiedName) \($0.kind.rawValue) \($0.startLine)/\($0.headerLine)-\($0.endLine)"
        }
    }

    /// Records an issue for every non-blank line of `text` that no chunk covers, and checks each chunk's text and order.
    static func checkCoverage(_ text: String, _ chunks: [Chunk], sourceLocation: SourceLocation = #_sourceLocation) {
        // Split the UTF-8 bytes: in Swift "\r\n" is one Character, which would hide the line break.
        var lines = text.utf8.split(separator: 10, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
        }
        if text.utf8.last == 10 || text.isEmpty { lines.removeLast() }
        var covered = [Bool](repeating: false, count: lines.count + 1)
        var previous = (0, 0)
        for chunk in chunks {
            let valid = chunk.startLine >= 1 && chunk.startLine <= chunk.endLine && chunk.endLine <= lines.count
            #expect(valid, "bad span \(chunk.startLine)-\(chunk.endLine)", sourceLocation: sourceLocation)
            guard valid else { continue }
            #expect(chunk.text == lines[(chunk.startLine - 1)..<chunk.endLine].joined(separator: "\n"),
                    "text of \(chunk.startLine)-\(chunk.endLine)", sourceLocation: sourceLocation)
            #expect(chunk.startLine > previous.0 || chunk.startLine == previous.0 && chunk.endLine >= previous.1,
                    "source order", sourceLocation: sourceLocation)
            previous = (chunk.startLine, chunk.endLine)
            for line in chunk.startLine...chunk.endLine { covered[line] = true }
        }
        let missing = lines.indices.filter { !covered[$0 + 1] && !lines[$0].allSatisfy(\.isWhitespace) }.map { $0 + 1 }
        #expect(missing.isEmpty, "uncovered non-blank lines \(missing.prefix(10))", sourceLocation: sourceLocation)
    }

    static let python = #"""
import os

X = 1


@decorator
@other(arg=")")
def top(a, b: int = 2, *args, **kw) -> str:
    """Doc."""
    s = """not a def:
def fake():
"""
    def inner(x):
        return x
    return s


class Context(Base):
    # fields
    name = "x"

    async def get(self, silent: bool = False) -> "Context":
        items = [
            1,
    2,
        ]
        return self

    class Nested:
        def deep(self): return 1
"""#

    static let go = #"""
package main

import "fmt"

// Hello says hi.
// More.
func Hello(name string, n int) string {
	s := `raw } string {`
	r := '}'
	return fmt.Sprintf("%s}", s, r)
}

type Point struct {
	X, Y int
}

type ID int

func (p *Point) Move(dx, dy int) {
	f := func() { p.X += dx }
	f()
}
"""#

    static let swift = #"""
import Foundation

/// A shape.
@MainActor
public struct Shape: Equatable {
    var name = "a } \(value("}"))"

    /* block /* nested } */ */
    public init(name: String) {
        self.name = name
    }

    func area(of side: Double, _ scale: Int) -> Double {
        func helper() -> Double { 1 }
        return side * helper()
    }
}

extension Shape: CustomStringConvertible {
    var description: String { """
    multi } line
    """ }
}

protocol Drawable {
    func draw()
}
"""#

    static let rust = #"""
use std::fmt;

/// A unit.
#[derive(Debug)]
pub struct Unit;

pub struct Point<'a> {
    name: &'a str,
}

impl<'a> fmt::Display for Point<'a> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let s = r#"raw } "quote" "#;
        let c = '}';
        write!(f, "{}", s)
    }
}

trait Shape {
    fn area(&self) -> f64;
}

mod inner {
    pub fn helper(x: i32) -> i32 { x }
}
"""#

    static let typescript = #"""
import { x } from "y";

export interface Props {
  name: string;
}

type Alias = string | number;

export function render(props: Props, depth = 0): string {
  const t = `a ${props.name + "}"} b`;
  return t;
}

export class View extends Base {
  private count = 0;

  constructor(name: string) {
    super();
  }

  async update(delta: number): Promise<void> {
    if (delta > 0) {
      this.count += delta;
    }
  }
}

export const handler = async (event, context) => {
  return event;
};

const add = (a, b) => a + b;
"""#

    static let java = #"""
package a.b;

import java.util.List;

/** A thing. */
@Entity
public class Main extends Base implements Runnable {
    private int count = 0;

    /** Runs. */
    @Override
    public void run() throws Exception {
        if (count > 0) {
            System.out.println("}");
        }
    }

    public Main(int count) {
        this.count = count;
    }

    interface Inner {
        void x();
    }
}
"""#

    static let cpp = #"""
#include <stdio.h>
#define MAX(a, b) ((a) > (b) ? (a) : (b))

namespace geo {

// A point.
struct Point {
    int x;
    int y;
};

static int
add(int a, int b)
{
    if (a > b) {
        return a;
    }
    return a + b;
}

int prototype(int a);

class Shape : public Base {
public:
    Shape(int n) : n_(n) {}
    virtual ~Shape() {}
    double area() const override {
        return 0.0;
    }
private:
    int n_;
};

double Shape::perimeter(double scale) const {
    const char *s = "}";
    return scale;
}

}
"""#

    static let all: [(String, Language)] = [
        (python, .python), (go, .go), (swift, .swift), (rust, .rust), (typescript, .typescript), (typescript, .javascript),
        (java, .java), (cpp, .cpp), (cpp, .c),
    ]
}

@Suite("DefinitionParser")
struct DefinitionParserTests {
    @Test("Python: decorators, async, nested functions and classes, strings that look like code")
    func python() throws {
        #expect(ChunkingFixtures.spans(ChunkingFixtures.python, .python) == [
            "top function 6/8-15", "top.inner function 13/13-14", "Context class 18/18-30",
            "Context.get method 22/22-27", "Context.Nested class 29/29-30", "Context.Nested.deep method 30/30-30",
        ])
        let definitions = DefinitionParser.definitions(in: ChunkingFixtures.python, language: .python)
        let top = try #require(definitions.first)
        #expect(top.signature == "def top(a, b: int = 2, *args, **kw) -> str")
        #expect(top.parameters == ["a", "b", "args", "kw"])
        #expect(top.hasDocumentation && top.depth == 0 && top.name == "top")
        #expect(definitions[3].signature == #"async def get(self, silent: bool = False) -> "Context""#)
        #expect(definitions[3].parameters == ["self", "silent"] && !definitions[3].hasDocumentation)
        #expect(definitions[2].parameters.isEmpty && definitions[5].depth == 2)
    }

    @Test("Python: tabs, backslash continuation, comment lines at column 0 inside a body")
    func pythonIndentation() {
        let text = "def a(x,\n      y):\n\tif x:\n\t\treturn \\\n  1\n# note\n\treturn y\n\ndef b(): pass\n"
        #expect(ChunkingFixtures.spans(text, .python) == ["a function 1/1-7", "b function 9/9-9"])
    }

    @Test("Go: doc comments, receivers, raw strings and runes with braces, bodiless types")
    func go() throws {
        #expect(ChunkingFixtures.spans(ChunkingFixtures.go, .go) == [
            "Hello function 7/7-11", "Point struct 13/13-15", "ID type 17/17-17", "Point.Move method 19/19-22",
        ])
        let definitions = DefinitionParser.definitions(in: ChunkingFixtures.go, language: .go)
        #expect(definitions[0].commentStartLine == 5 && definitions[0].hasDocumentation)
        #expect(definitions[0].signature == "func Hello(name string, n int) string")
        #expect(definitions[0].parameters == ["name", "n"])
        #expect(definitions[3].name == "Move" && definitions[3].parameters == ["dx", "dy"] && !definitions[3].hasDocumentation)
    }

    @Test("Swift: attributes, nested comments, interpolation, multi-line strings, extensions")
    func swift() throws {
        #expect(ChunkingFixtures.spans(ChunkingFixtures.swift, .swift) == [
            "Shape struct 4/5-17", "Shape.init method 9/9-11", "Shape.area method 13/13-16",
            "Shape.area.helper function 14/14-14", "Shape impl 19/19-23", "Drawable interface 25/25-27",
        ])
        let definitions = DefinitionParser.definitions(in: ChunkingFixtures.swift, language: .swift)
        #expect(definitions[0].commentStartLine == 3 && definitions[0].signature == "public struct Shape: Equatable")
        #expect(definitions[2].parameters == ["side", "scale"] && definitions[3].depth == 2)
    }

    @Test("Rust: raw strings, lifetimes, char literals, impl Trait for Type, bodiless structs")
    func rust() {
        #expect(ChunkingFixtures.spans(ChunkingFixtures.rust, .rust) == [
            "Unit struct 4/5-5", "Point struct 7/7-9", "Point impl 11/11-17", "Point.fmt method 12/12-16",
            "Shape interface 19/19-21", "inner module 23/23-25", "inner.helper function 24/24-24",
        ])
        let definitions = DefinitionParser.definitions(in: ChunkingFixtures.rust, language: .rust)
        #expect(definitions[0].hasDocumentation && definitions[3].parameters == ["self", "f"])
    }

    @Test("TypeScript and JavaScript: classes, methods, arrows, template literals, types")
    func typescript() {
        #expect(ChunkingFixtures.spans(ChunkingFixtures.typescript, .typescript) == [
            "Props interface 3/3-5", "Alias type 7/7-7", "render function 9/9-12", "View class 14/14-26",
            "View.constructor method 17/17-19", "View.update method 21/21-25", "handler function 28/28-30",
            "add function 32/32-32",
        ])
        let js = ChunkingFixtures.spans(ChunkingFixtures.typescript, .javascript)
        #expect(js.contains("View.update method 21/21-25") && js.contains("handler function 28/28-30"))
    }

    @Test("Java: annotations, javadoc, constructors, nested interfaces")
    func java() throws {
        #expect(ChunkingFixtures.spans(ChunkingFixtures.java, .java) == [
            "Main class 6/7-25", "Main.run method 11/12-16", "Main.Main method 18/18-20", "Main.Inner interface 22/22-24",
        ])
        let run = try #require(DefinitionParser.definitions(in: ChunkingFixtures.java, language: .java).dropFirst().first)
        #expect(run.commentStartLine == 10 && run.hasDocumentation && run.signature == "public void run() throws Exception")
    }

    @Test("C++: namespaces, GNU-style headers, prototypes skipped, constructors, out-of-class methods")
    func cpp() {
        #expect(ChunkingFixtures.spans(ChunkingFixtures.cpp, .cpp) == [
            "geo module 4/4-39", "geo.Point struct 7/7-10", "geo.add function 12/12-19", "geo.Shape class 23/23-32",
            "geo.Shape.Shape method 25/25-25", "geo.Shape.~Shape method 26/26-26", "geo.Shape.area method 27/27-29",
            "geo.Shape.perimeter method 34/34-37",
        ])
    }

    @Test("languages without a parser and empty text give nothing")
    func noParser() {
        #expect(DefinitionParser.definitions(in: "def f():\n  pass\n", language: .shell).isEmpty)
        #expect(DefinitionParser.definitions(in: "", language: .python).isEmpty)
    }
}

@Suite("Chunker")
struct ChunkerTests {
    @Test("every non-blank line of every fixture is in a chunk", arguments: [10, 40, 1000])
    func coverage(budget: Int) {
        let chunker = Chunker(tokenBudget: budget, countTokens: ChunkingFixtures.wordCount)
        for (text, language) in ChunkingFixtures.all {
            let chunks = chunker.chunks(of: text, language: language)
            ChunkingFixtures.checkCoverage(text, chunks)
            for chunk in chunks where chunk.truncated {
                #expect(chunk.startLine == chunk.endLine, "only a single line may be truncated")
            }
        }
    }

    @Test("functions become chunks from their comment; small types stay whole; module code is kept")
    func policy() {
        let chunker = Chunker(tokenBudget: 200, countTokens: ChunkingFixtures.wordCount)
        let go = chunker.chunks(of: ChunkingFixtures.go, language: .go).map { "\($0.startLine)-\($0.endLine) \($0.symbol ?? "-")" }
        #expect(go == ["1-3 -", "5-11 Hello", "13-15 Point", "17-17 ID", "19-22 Point.Move"])
        // Swift's Shape (15 lines) is over windowLines / 2 = 6 here: members are separate, the closing brace joins the last.
        let small = Chunker(tokenBudget: 200, windowLines: 12, countTokens: ChunkingFixtures.wordCount)
        let swift = small.chunks(of: ChunkingFixtures.swift, language: .swift).map { "\($0.startLine)-\($0.endLine) \($0.symbol ?? "-")" }
        #expect(swift == ["1-1 -", "3-6 Shape", "8-11 Shape.init", "13-17 Shape.area", "19-23 Shape", "25-27 Drawable"])
        // With the default 40-line windows, the 13-line Python class stays one chunk.
        let python = chunker.chunks(of: ChunkingFixtures.python, language: .python)
        #expect(python.map(\.startLine) == [1, 6, 18] && python[2].kind == .class && python[1].signature?.hasPrefix("def top(") == true)
    }

    @Test("a definition over budget is split at blank lines into parts that keep the symbol")
    func budgetSplit() throws {
        var body = ["def big(x):"]
        for block in 0..<6 {
            for line in 0..<4 { body.append("    v\(block)_\(line) = x + \(line)") }
            body.append("")
        }
        body.append("    return x")
        let text = body.joined(separator: "\n")
        let chunker = Chunker(tokenBudget: 30, countTokens: ChunkingFixtures.wordCount)
        let chunks = chunker.chunks(of: text, language: .python)
        ChunkingFixtures.checkCoverage(text, chunks)
        #expect(chunks.count > 1)
        for (index, chunk) in chunks.enumerated() {
            #expect(chunk.symbol == "big" && chunk.kind == .function && chunk.part == index + 1 && chunk.partCount == chunks.count)
            #expect(chunk.tokenCount <= 30 && !chunk.truncated)
            #expect(chunk.tokenCount == ChunkingFixtures.wordCount(Substring(chunk.text)))
        }
        // Parts end just before a blank line (lines 6, 11, 16, … are blank).
        for chunk in chunks.dropLast() { #expect((chunk.endLine + 1) % 5 == 1, "part ends at \(chunk.endLine)") }
    }

    @Test("with the real tokenizer, parts stay within 254 word pieces", .enabled(if: ChunkingFixtures.tokenizer != nil))
    func realTokenizer() throws {
        let tokenizer = try #require(ChunkingFixtures.tokenizer)
        let chunker = Chunker(tokenBudget: 254, countTokens: { tokenizer.wordPieces(String($0)).count })
        var lines = ["func handleRequest(_ request: HTTPRequest, context: Context) async throws -> Response {"]
        for index in 0..<120 { lines.append("    let value\(index) = try await context.store.fetchRecord(id: request.parameters[\"id\(index)\"])") }
        lines.append("}")
        let text = lines.joined(separator: "\n")
        let chunks = chunker.chunks(of: text, language: .swift)
        ChunkingFixtures.checkCoverage(text, chunks)
        #expect(chunks.count >= 3)
        for chunk in chunks {
            #expect(chunk.tokenCount == tokenizer.wordPieces(chunk.text).count)
            #expect(chunk.tokenCount <= 254 && !chunk.truncated && chunk.symbol == "handleRequest")
        }
    }

    @Test("a single line over budget is its own truncated part")
    func truncatedLine() {
        let long = "x = [" + String(repeating: "1, ", count: 500) + "]"
        let text = "def f():\n    a = 1\n    " + long + "\n    return a\n"
        let chunks = Chunker(tokenBudget: 50, countTokens: ChunkingFixtures.wordCount).chunks(of: text, language: .python)
        ChunkingFixtures.checkCoverage(text, chunks)
        #expect(chunks.map(\.truncated) == [false, true, false])
        #expect(chunks.count == 3 && chunks[1].startLine == 3 && chunks[1].endLine == 3 && chunks[1].partCount == 3)
    }

    @Test("other languages are cut into overlapping windows")
    func windows() {
        let text = (1...100).map { "line \($0)" }.joined(separator: "\n")
        let chunks = Chunker(tokenBudget: 1000, windowLines: 40, windowOverlap: 10, countTokens: ChunkingFixtures.wordCount)
            .chunks(of: text, language: Language(rawValue: "markdown"))
        #expect(chunks.map { "\($0.startLine)-\($0.endLine)" } == ["1-40", "31-70", "61-100"])
        #expect(chunks.allSatisfy { $0.symbol == nil && $0.kind == nil })
        let none = Chunker(tokenBudget: 1000, countTokens: ChunkingFixtures.wordCount).chunks(of: text, language: nil)
        #expect(none.count == 3)
    }

    @Test("CRLF text gives the same chunks as LF text, without carriage returns")
    func crlf() {
        let chunker = Chunker(tokenBudget: 40, countTokens: ChunkingFixtures.wordCount)
        for (text, language) in ChunkingFixtures.all {
            let crlf = text.replacingOccurrences(of: "\n", with: "\r\n")
            let a = chunker.chunks(of: text, language: language)
            let b = chunker.chunks(of: crlf, language: language)
            #expect(a == b)
            #expect(DefinitionParser.definitions(in: crlf, language: language) == DefinitionParser.definitions(in: text, language: language))
            ChunkingFixtures.checkCoverage(crlf, b)
        }
    }

    static let adversarial: [String] = [
        "",
        "\n\n\n",
        "def f(:\n  s = '''never closed\n  x = 1\n",
        "func f() {\n  s := \"unterminated\n  return }\n}}}\n{{{\n",
        "fn main() { let s = \"}}}{{{\"; /* unclosed comment\n fn g() {}\n",
        "class A {\n  m() { return `${`${'}'}`}` }\n  n() {\n",
        "struct S { let s = \"\\(\"\\(\"\\(\")\")\") }\n}}}\n",
        "int main(void) {\n  char c = '{';\n  /* } */\n  return 0;\n",
        "\tdef f():\n        \treturn 1\n  \t  x = \\\n",
        ")))]]]}}} ((([[[{{{\n'\"`/*\n",
        String(repeating: "\"\\(", count: 2000),
        String(repeating: "`${", count: 2000),
        String(repeating: "{", count: 5000) + String(repeating: "(", count: 5000),
    ]

    @Test("malformed input never crashes and every non-blank line stays covered", arguments: adversarial)
    func adversarialInput(text: String) {
        let chunker = Chunker(tokenBudget: 20, windowLines: 5, windowOverlap: 2, countTokens: ChunkingFixtures.wordCount)
        for language in [Language.python, .go, .swift, .rust, .javascript, .typescript, .java, .c, .cpp, .text] {
            _ = DefinitionParser.definitions(in: text, language: language)
            ChunkingFixtures.checkCoverage(text, chunker.chunks(of: text, language: language))
        }
    }

    @Test("a 1 MB single line is one truncated chunk in every language")
    func megabyteLine() {
        let line = String(repeating: "a{b(\"c'd`e/f ", count: 80_000)
        let chunker = Chunker(tokenBudget: 254, countTokens: { _ in 100_000 })
        for language in [Language.python, .go, .swift, .rust, .javascript, .typescript, .java, .c, .cpp, .text] {
            let chunks = chunker.chunks(of: line, language: language)
            #expect(chunks.count == 1 && chunks.first?.truncated == true && chunks.first?.text.utf8.count == line.utf8.count)
        }
    }

    @Test("a 10,000-line file is chunked quickly")
    func speed() {
        var lines: [String] = []
        for index in 0..<1000 {
            lines.append(contentsOf: ["", "# comment \(index)", "@decorator", "def function_\(index)(a, b=\"}\"):", "    \"\"\"Doc.\"\"\"",
                                      "    x = [a,", "         b]", "    if x:", "        return x", "    return None"])
        }
        let text = lines.joined(separator: "\n")
        let chunker = Chunker(tokenBudget: 254, countTokens: ChunkingFixtures.wordCount)
        let clock = ContinuousClock()
        var chunks: [Chunk] = []
        let elapsed = clock.measure { chunks = chunker.chunks(of: text, language: .python) }
        #expect(chunks.count == 1000)
        #expect(elapsed < .seconds(3), "\(elapsed) (debug build; release is far faster)")
        ChunkingFixtures.checkCoverage(text, chunks)
    }
}
