import CodeSageCore
import Foundation
import IndexStore
import Indexing

extension IndexReport: Answer {
    /// Counts, what was embedded, the vector index and the generation; then what was left out, if anything.
    public var text: String { text(excludedListedIn: "the structured report") }

    /// The same, naming where the excluded paths are listed (`--json` for the CLI).
    public func text(excludedListedIn listing: String) -> String {
        let recall = recallAt10.map { String(format: ", recall@10 %.3f", $0) } ?? ""
        var text = "\(files) files, \(chunks) chunks (\(added) new, \(changed) changed, \(deleted) deleted, \(skipped) unchanged); "
            + "\(embedded) embedded, \(reused) reused; \(indexType.isEmpty ? "no vectors" : indexType)\(recall); generation \(generation) in "
            + String(format: "%.2f s", seconds)
        switch vectorUpdate {
        case "delta": text += "; vectors: delta segment of \(deltaVectors) vectors and \(tombstones) tombstones over the kept base"
        case "full": text += "; vectors: a new base"
        default: break
        }
        if compacted { text += ", then compacted into a new base" }
        if let lexicalSeconds {
            text += String(format: "\nkeyword search answered after %.2f s; then %d publications while embedding", lexicalSeconds, embeddingPublications)
        }
        if semanticCoverage < 1 { text += String(format: "; semantic coverage %.1f%%", semanticCoverage * 100) }
        if excluded > 0 {
            let reasons = excludedByReason.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            text += "\nleft out \(excluded) paths (\(reasons)); \(listing) lists them"
        }
        return text
    }
}

extension IndexJobs.Job: Answer {
    /// The run's state and, once published, its report.
    public var text: String {
        var text = "\(id) \(state.rawValue): \(root)"
        if let report {
            text += "\n" + report.text
        } else if state == .running {
            text += " (\(phase) \(done)/\(total))"
        }
        return text
    }
}

extension Workspace {
    /// Starts an index run of `root` on its own thread (waiting for another run's lock if there is one)
    /// and returns its job id at once; when it publishes, the root is reopened and the caches warmed.
    public func startIndexRun(root: String, rebuild: Bool) throws(CodeSageError) -> String {
        var options = IndexOptions(configuration: configuration)
        options.rebuild = rebuild
        options.waitForLock = true
        let indexer = Indexer(layout: try layout(root: root), embedder: try model(), options: options)
        return jobs.start(indexer) { [weak self] in self?.indexPublished(indexer.layout) }
    }
}
