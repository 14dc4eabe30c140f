import CodeSageCore
import Foundation
import SourceModel
import Search

/// search_codebase mode=regex: a regular expression over the lines of the indexed files, as
/// they are on disk now, with context lines.
public enum RegexSearch {
    /// One matching line with its neighbours.
    public struct Match: Sendable, Codable {
        public var path: String
        public var line: Int
        public var text: String
        /// Lines before and after (up to the context asked for), in order, with their numbers.
        public var before: [String]
        public var after: [String]
    }

    /// Longest time a regex search may take before it returns what it found.
    public static let timeBudget: Duration = .seconds(3)

    /// Matches `pattern` (ICU syntax, as NSRegularExpression; `^` and `$` match at line ends) against the
    /// indexed files. The time budget holds inside a single match too: ICU calls back while it backtracks,
    /// and a pattern that runs over the budget (catastrophic backtracking) is an error, not a stuck thread.
    public static func run(pattern: String, snapshot: IndexSnapshot, filter: PathFilter, limit: Int, contextLines: Int) throws(CodeSageError) -> [Match] {
        let regex: NSRegularExpression
        do {
            regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
        } catch {
            throw CodeSageError(.invalidArgument, "argument \"query\" is not a valid regular expression (ICU syntax): \(error.localizedDescription)")
        }
        let generation = snapshot.generation
        let files = try snapshot.withStore { (store) throws(CodeSageError) in try store.files(at: generation) }
        let deadline = ContinuousClock.now + timeBudget
        var matches: [Match] = []
        for path in files.keys.sorted() where filter.accepts(path: path, language: files[path]?.language) {
            guard case .text(let text, _)? = try? SourceText.load(path: snapshot.layout.root + "/" + path, maxSize: 8 << 20, root: snapshot.layout.root) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let matchedLines = try matchingLines(regex, in: text, deadline: deadline, file: path)
            for index in matchedLines where index < lines.count {
                let low = max(0, index - contextLines), high = min(lines.count - 1, index + contextLines)
                matches.append(Match(path: path, line: index + 1, text: String(lines[index]),
                                     before: lines[low..<index].map(String.init), after: lines[(index + 1)..<(high + 1)].map(String.init)))
                if matches.count == limit { return matches }
            }
        }
        return matches
    }

    /// The 0-based numbers of the lines where a match of `regex` starts, each once, in order.
    private static func matchingLines(_ regex: NSRegularExpression, in text: String, deadline: ContinuousClock.Instant,
                                      file: String) throws(CodeSageError) -> [Int] {
        let utf16 = Array(text.utf16)
        var lineStarts = [0]
        for (offset, unit) in utf16.enumerated() where unit == 10 { lineStarts.append(offset + 1) }
        var lines: [Int] = []
        var overBudget = false
        regex.enumerateMatches(in: text, options: [.reportProgress], range: NSRange(location: 0, length: utf16.count)) { result, _, stop in
            if ContinuousClock.now > deadline {
                overBudget = true
                stop.pointee = true
                return
            }
            guard let result else { return }
            // The last line start at or before the match.
            var low = 0, high = lineStarts.count - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if lineStarts[middle] <= result.range.location { low = middle } else { high = middle - 1 }
            }
            if lines.last != low { lines.append(low) }
        }
        if overBudget {
            throw CodeSageError(.invalidArgument,
                "the regular expression ran over its \(timeBudget) budget (in \(file)); it probably backtracks catastrophically (nested quantifiers such as (a+)+); simplify it")
        }
        return lines
    }
}
