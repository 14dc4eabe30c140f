import CodeSageCore
import Foundation
import IndexStore
import Indexing
import Search

/// Warms the caches after an index run: opens the new snapshot (and the model), then reads into
/// the file cache the files that searches returned most often and the most recently changed
/// ones, alternately, until the time or memory bound is reached or the cache is full.
public enum CacheWarming {
    /// What a warming did.
    public struct Report: Sendable, Encodable {
        public var root: String
        public var generation: Int64
        public var files: Int
        public var bytesRead: Int
        public var milliseconds: Double
        /// "all files", "time", "memory", "entries" (the file cache's entry bound) or an error.
        public var stoppedBy: String
    }

    /// Time a warming may take.
    public static let defaultBudget: Duration = .seconds(2)
    /// Bytes a warming may read: at most this, and at most half the file cache's byte budget.
    public static let defaultMaxBytes = 64 << 20

    /// Warms the caches for `layout`; `popular` counts how often each file was returned by searches.
    static func warm(layout: IndexLayout, workspace: Workspace, popular: [String: Int],
                     budget: Duration = defaultBudget, maxBytes: Int = defaultMaxBytes) -> Report {
        let started = ContinuousClock.now
        var report = Report(root: layout.root, generation: 0, files: 0, bytesRead: 0, milliseconds: 0, stoppedBy: "all files")
        do {
            let engine = try workspace.engine(root: layout.root)
            report.generation = engine.snapshot.generation
            let files = try engine.snapshot.withStore { (store) throws(CodeSageError) in try store.files(at: engine.snapshot.generation) }
            let recent = files.values.sorted { $0.modificationTime != $1.modificationTime ? $0.modificationTime > $1.modificationTime : $0.path < $1.path }.map(\.path)
            let often = popular.filter { files[$0.key] != nil }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
            var order: [String] = []
            var seen = Set<String>()
            for i in 0..<max(recent.count, often.count) {
                for list in [often, recent] where i < list.count && seen.insert(list[i]).inserted { order.append(list[i]) }
            }
            let cache = workspace.fileCache.statistics()
            let byteLimit = min(maxBytes, cache.capacityBytes / 2)
            for path in order {
                if ContinuousClock.now - started >= budget { report.stoppedBy = "time"; break }
                if report.bytesRead >= byteLimit { report.stoppedBy = "memory"; break }
                if workspace.fileCache.statistics().entries >= cache.capacityEntries { report.stoppedBy = "entries"; break }
                if case .bytes(let bytes) = try? workspace.fileContents(layout.root + "/" + path) {
                    report.files += 1
                    report.bytesRead += bytes.count
                }
            }
        } catch {
            report.stoppedBy = "error: \(error)"
        }
        let elapsed = ContinuousClock.now - started
        report.milliseconds = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15).rounded()
        return report
    }
}
