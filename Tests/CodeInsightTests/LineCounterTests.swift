import Testing
import SourceModel
@testable import CodeInsight

/// Exact code/comment/blank counts per language.
@Suite struct LineCounterTests {
    /// Shorthand: the counts as (code, comment, blank).
    func counts(_ text: String, _ language: Language?) -> [Int] {
        let c = LineCounter.count(text, language: language)
        return [c.code, c.comment, c.blank]
    }

    @Test func python() {
        let text = """
        #!/usr/bin/env python3
        \"\"\"Module docstring
        spanning lines.\"\"\"
        import os  # trailing comment

        def f(x):
            '''One-line docstring.'''
            s = "# not a comment"
            t = \"\"\"a string
        that is code\"\"\"
            return x


        # last
        """
        // code: import, def, s =, t = (2 lines), return = 6; comment: shebang, docstring x2, ''' , # last = 5; blank 3
        #expect(counts(text, .python) == [6, 5, 3])
    }

    @Test func pythonStringStatementFollowedByCodeIsCode() {
        #expect(counts("\"\"\"a\nb\"\"\".join(x)\n", .python) == [2, 0, 0])
        #expect(counts("x = (\n  'in brackets'\n)\n", .python) == [3, 0, 0])
    }

    @Test func cFamily() {
        let text = """
        // header
        /* block
           comment */
        int main() { /* inline */
            char *s = "/* not a comment */"; // trailing

            return '"'; /* a */ /* b */
        }
        """
        #expect(counts(text, .c) == [4, 3, 1])
        #expect(counts(text, .java) == [4, 3, 1])
    }

    @Test func swiftNestedCommentsAndRawStrings() {
        let text = """
        /* outer /* inner */ still comment */
        let a = #"raw "// not comment" here"#
        let b = \"\"\"
            // inside a multi-line string
            \"\"\"
        /// doc
        """
        #expect(counts(text, .swift) == [4, 2, 0])
    }

    @Test func rustLifetimesAndRawStrings() {
        let text = """
        fn f<'a>(x: &'a str) -> char { '"' }
        let s = r#"/* not a comment "# ;
        /* a /* nested */ comment */
        let c = '/'; // x
        """
        #expect(counts(text, .rust) == [3, 1, 0])
    }

    @Test func goRawStringsAndJavaScriptRegexAndTemplates() {
        #expect(counts("s := `line1\n// still string`\n// comment\n", .go) == [2, 1, 0])
        let js = "const r = /\\/*foo/g; // c\nconst t = `a\n/* not */ b`;\n/* c */\nx = a / b / c\n"
        #expect(counts(js, .javascript) == [4, 1, 0])
    }

    @Test func shellAndRuby() {
        let shell = "#!/bin/sh\necho $# a#b \"# in string\"  # real\n\n# comment\n"
        #expect(counts(shell, .shell) == [1, 2, 1])
        let ruby = "=begin\nblock\n=end\nputs '#{x}' # c\n"
        #expect(counts(ruby, .ruby) == [1, 3, 0])
    }

    @Test func unknownLanguageAndEdges() {
        #expect(counts("a\n\n  b\n# c\n", nil) == [3, 0, 1])
        #expect(counts("", .python) == [0, 0, 0])
        #expect(counts("x = 1", .python) == [1, 0, 0])
        #expect(counts("a = 1\r\n\r\n# c\r\n", .python) == [1, 1, 1])
        #expect(counts("\n", .c) == [0, 0, 1])
        #expect(LineCounter.count("x\n", language: .python).total == 1)
    }

    @Test func unterminatedConstructsNeverCrashAndStayLinear() {
        for language in [Language.python, .swift, .rust, .go, .javascript, .typescript, .java, .c, .cpp, .shell, .ruby, nil] {
            for text in ["\"unterminated\ncode", "/* open\n\n", "'''never closed\nabc", "`\n", "r#\"\n", "R\"x(\n", "#\"\"\"\n", "'", "/", "\\"] {
                let c = LineCounter.count(text, language: language)
                #expect(c.total == text.split(separator: "\n", omittingEmptySubsequences: false).count - (text.hasSuffix("\n") ? 1 : 0))
            }
        }
        // A single-line C string that is not closed ends at its line: the next line's comment counts.
        #expect(counts("x = \"open\n// c\n", .c) == [1, 1, 0])
        // 1 MB line of markers and a long run of hashes.
        let long = String(repeating: "(/ '#\"", count: 170_000)
        #expect(counts(long, .javascript)[0] == 1)
        #expect(counts(String(repeating: "#", count: 1_000_000), .swift) == [1, 0, 0])
        #expect(counts(String(repeating: "r#", count: 300_000), .rust) == [1, 0, 0])
    }
}
