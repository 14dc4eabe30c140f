import CodeSageCore
import Foundation
import Indexing
import Search

/// search_codebase mode=regex: a regular expression over the lines of the indexed files, as
/// they are on disk now, with context lines.
enum RegexSearch {
    /// One matching line with its neighbours.
    struct Match: Encodable {
        var path: String
        var line: Int
        var text: String
        /// Lines before and after (up to the context asked for), in order, with their numbers.
        var before: [String]
        var after: [String]
    }

    struct Results: Encodable {
        var pattern: String
        var generation: Int64
        var matches: [Match]
    }

    /// Longest time a regex search may take before it returns what it found.
    static let timeBudget: Duration = .seconds(5)

    static func run(pattern: String, snapshot: IndexSnapshot, filter: PathFilter, limit: Int, contextLines: Int) throws(CodeSageError) -> [Match] {
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex(pattern)
        } catch {
            throw CodeSageError(.invalidArgument, "argument \"query\" is not a valid regular expression: \(error)")
        }
        let generation = snapshot.generation
        let files = try snapshot.withStore { (store) throws(CodeSageError) in try store.files(at: generation) }
        let started = ContinuousClock.now
        var matches: [Match] = []
        for path in files.keys.sorted() where filter.accepts(path: path, language: files[path]?.language) {
            if ContinuousClock.now - started > timeBudget { break }
            guard case .text(let text, _)? = try? SourceText.load(path: snapshot.layout.root + "/" + path, maxSize: 8 << 20) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() where (try? regex.firstMatch(in: line)) != nil {
                let low = max(0, index - contextLines), high = min(lines.count - 1, index + contextLines)
                matches.append(Match(path: path, line: index + 1, text: String(line),
                                     before: lines[low..<index].map(String.init), after: lines[(index + 1)..<(high + 1)].map(String.init)))
                if matches.count == limit { return matches }
            }
        }
        return matches
    }

    static func render(_ matches: [Match]) -> String {
        guard !matches.isEmpty else { return "No matches." }
        return matches.map { m in
            "\(m.path):\(m.line): \(m.text)" + (m.before.isEmpty && m.after.isEmpty ? "" :
                "\n" + (m.before.map { "    " + $0 } + ["  > " + m.text] + m.after.map { "    " + $0 }).joined(separator: "\n"))
        }.joined(separator: "\n")
    }
}
