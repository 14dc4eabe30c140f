import CodeSageCore
import Foundation
import IndexStore
import Indexing
import Logging
import Platform
import SourceModel
import Synchronization

/// Keeps the index of one root current on its own: inotify on every folder discovery walks, a debounce
/// window that turns a burst of events (an editor's save, a branch switch) into one incremental index
/// run, and a periodic stat scan where inotify cannot cover the tree. Runs on a thread of its own.
///
/// Nothing is lost between an event and its update: an update is a full discovery (sizes and times of
/// every file), so events only decide *when* to look, never *what* to look at. The one gap, a file
/// created in a new folder before that folder is watched, is closed by a second update after any
/// update that added watches.
public final class RootWatcher: Sendable {
    /// How a watcher times its updates.
    public struct Options: Sendable {
        /// Quiet time after the last event before updating (CODESAGE_WATCH_DEBOUNCE_MS).
        public var debounce: Duration = .milliseconds(200)
        /// An update starts at the latest this long after the first event of a burst that never goes quiet.
        public var maximumDelay: Duration = .seconds(2)
        /// Between stat scans when inotify cannot cover the tree (CODESAGE_WATCH_SCAN_SECONDS).
        public var scanInterval: Duration = .seconds(5)
        /// At most this many folders are watched before falling back to scans (nil: the kernel's limit).
        public var folderLimit: Int?

        public init() {}

        /// Options from the configuration.
        public init(configuration: Configuration) {
            debounce = configuration.watchDebounce
            maximumDelay = max(.seconds(2), configuration.watchDebounce * 4)
            scanInterval = configuration.watchScanInterval
            folderLimit = configuration.watchMaxFolders
        }
    }

    /// What the watcher is doing, for get_index_status and /metrics.
    public struct Status: Sendable, Encodable {
        /// How changes are noticed.
        public enum Mode: String, Sendable, Encodable {
            /// Starting: the first update has not finished.
            case starting
            /// inotify covers every folder discovery walks.
            case watching
            /// inotify cannot cover the tree (see `fallbackReason`): a stat scan every `scanInterval`.
            case scanning
            case stopped
        }

        public var root: String
        public var mode: Mode = .starting
        /// Folders inotify watches.
        public var folders = 0
        /// Why the watcher scans instead of watching; nil while inotify covers the tree.
        public var fallbackReason: String?
        /// Events since the last update began (what the next update will look at).
        public var pendingChanges = 0
        /// Times the kernel's event queue overflowed (each answered by a full scan).
        public var overflows = 0
        /// Whether an update is running now (a large one publishes for keyword search first, then embeds).
        public var updating = false
        /// Updates run, and those that published a new generation.
        public var updates = 0
        public var publishedUpdates = 0
        /// When the last update finished, and how long it took.
        public var lastUpdateAt: Date?
        public var lastUpdateSeconds: Double?
        /// The last update's report, and its error if it failed.
        public var lastReport: IndexReport?
        public var lastError: String?

        enum CodingKeys: String, CodingKey {
            case root, mode, folders
            case fallbackReason = "fallback_reason"
            case pendingChanges = "pending_changes"
            case overflows, updating, updates
            case publishedUpdates = "published_updates"
            case lastUpdateAt = "last_update_at"
            case lastUpdateSeconds = "last_update_seconds"
            case lastReport = "last_report"
            case lastError = "last_error"
        }
    }

    /// One update of the index: runs an incremental index run, hands its discovery walk to `discovered`,
    /// and returns its report.
    public typealias Update = @Sendable (_ discovered: (DiscoveryResult) -> Void) throws(CodeSageError) -> IndexReport

    public let root: String
    public let options: Options
    private let update: Update
    private let published: @Sendable (IndexReport) -> Void
    private let logger: Logger
    private let status: Mutex<Status>
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// Excluded names at any depth (never indexed): their events cannot change the index.
    private let ignoredNames: Set<String>

    /// A watcher of `root` (absolute, resolved); `update` runs an index run, `published` is told of each
    /// report that published a generation. Call `start()`.
    public init(root: String, options: Options, logger: Logger, ignoredNames: Set<String> = DiscoveryOptions().excludedDirectoryNames,
                update: @escaping Update, published: @escaping @Sendable (IndexReport) -> Void = { _ in }) {
        self.root = root
        self.options = options
        self.update = update
        self.published = published
        self.logger = logger
        self.ignoredNames = ignoredNames
        status = Mutex(Status(root: root))
    }

    /// The watcher's state now.
    public var current: Status { status.withLock { $0 } }

    /// Starts the watcher's thread: an update at once (the tree may have changed while nobody watched),
    /// then one after every burst of changes.
    public func start() {
        let thread = Thread { [self] in
            loop()
            status.withLock { $0.mode = .stopped }
            finished.signal()
        }
        thread.name = "codesage-watch"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Asks the thread to stop and waits up to `deadline` for it (an update in progress finishes first;
    /// a longer one is left to end with the process, safe like any index run). Returns whether it ended.
    @discardableResult
    public func stop(deadline: Duration = .seconds(5)) -> Bool {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return true }
        let c = deadline.components
        let ended = finished.wait(timeout: .now() + .milliseconds(Int(c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000))) == .success
        if ended { finished.signal() }
        return ended
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// The thread's work: wait for events (or the scan interval), debounce, update, repeat.
    private func loop() {
        var watcher: DirectoryWatcher?
        do {
            watcher = try DirectoryWatcher(limit: options.folderLimit)
        } catch {
            fallBack(&watcher, reason: "inotify is unavailable (\(error.message))")
        }
        var dirty = true  // the first update runs at once
        var firstEvent = ContinuousClock.now, lastEvent = ContinuousClock.now - options.debounce
        var lastScan = ContinuousClock.now
        while !isStopping {
            if dirty, ContinuousClock.now >= min(lastEvent + options.debounce, firstEvent + options.maximumDelay) {
                let addedFolders = runUpdate(&watcher)
                lastScan = ContinuousClock.now
                // Files created in a folder before its watch was added had no event: one more look finds them.
                dirty = addedFolders
                if dirty { firstEvent = .now; lastEvent = .now - options.debounce }
                continue
            }
            guard let active = watcher else {
                // Scanning: sleep until the next scan (waking now and then to see a stop request).
                let next = lastScan + options.scanInterval
                if ContinuousClock.now >= next {
                    dirty = true
                    firstEvent = .now; lastEvent = .now - options.debounce
                } else {
                    Thread.sleep(forTimeInterval: min(0.1, Self.seconds(next - .now)))
                }
                continue
            }
            let timeout: Duration = dirty
                ? min(lastEvent + options.debounce, firstEvent + options.maximumDelay) - .now
                : .milliseconds(100)
            let events: [DirectoryWatcher.Event]
            do {
                events = try active.wait(timeout: max(.zero, min(timeout, .milliseconds(100))))
            } catch {
                fallBack(&watcher, reason: "reading inotify events failed (\(error.message))")
                continue
            }
            let relevant = absorb(events, into: active, watcher: &watcher)
            if relevant > 0 {
                if !dirty { firstEvent = .now }
                dirty = true
                lastEvent = .now
                status.withLock { $0.pendingChanges += relevant }
            }
        }
    }

    /// Handles a batch of events: new folders are watched at once (so what appears inside them is seen),
    /// gone ones forgotten; returns how many events may change the index.
    private func absorb(_ events: [DirectoryWatcher.Event], into active: DirectoryWatcher, watcher: inout DirectoryWatcher?) -> Int {
        var relevant = 0
        for event in events {
            switch event {
            case .overflow:
                relevant += 1
                let first = status.withLock { s -> Bool in
                    s.overflows += 1
                    return s.overflows == 1
                }
                if first {
                    logger.warning("\(root): the inotify event queue overflowed (fs.inotify.max_queued_events); a full scan catches up, and does again whenever it recurs")
                }
            case .folderGone(let folder):
                active.remove(folder)
                relevant += 1
            case .entry(let folder, let name, let isDirectory, let created):
                if ignoredNames.contains(name) { continue }
                relevant += 1
                if isDirectory && created {
                    let path = folder + "/" + name
                    if case .limitReached = watchTree(path, in: active) {
                        fallBack(&watcher, reason: watchLimitReason(active))
                        return relevant
                    }
                }
            }
        }
        status.withLock { $0.folders = active.count }
        return relevant
    }

    /// Watches `folder` and every folder below it (a folder moved in, or made with `mkdir -p`). Ignore
    /// rules are applied at the next update, which drops the watches of ignored folders.
    private func watchTree(_ folder: String, in active: DirectoryWatcher) -> DirectoryWatcher.Addition {
        var pending = [folder]
        while let next = pending.popLast() {
            switch (try? active.add(next)) ?? .notAFolder {
            case .limitReached: return .limitReached
            case .notAFolder: continue
            case .watching:
                for entry in (try? FileSystem.listDirectory(next)) ?? [] where entry.kind == .directory && !ignoredNames.contains(entry.name) {
                    pending.append(next + "/" + entry.name)
                }
            }
        }
        return .watching
    }

    /// Runs one update and makes the watches match the folders it walked; returns whether it added any.
    private func runUpdate(_ watcher: inout DirectoryWatcher?) -> Bool {
        status.withLock { $0.pendingChanges = 0; $0.updating = true }
        let started = ContinuousClock.now
        var walked: [String]?
        do {
            let report = try update { walked = $0.folders }
            status.withLock { s in
                s.updates += 1
                if report.published { s.publishedUpdates += 1 }
                s.lastReport = report
                s.lastError = nil
            }
            if report.published { published(report) }
        } catch {
            if !FileSystem.exists(root) {
                logger.notice("\(root) is gone; no longer watched")
                stopping.store(true, ordering: .releasing)
                return false
            }
            logger.error("\(root): updating the index failed: \(error.message); the next change (or scan) tries again")
            status.withLock { s in
                s.updates += 1
                s.lastError = error.message
            }
        }
        status.withLock { s in
            s.updating = false
            s.lastUpdateAt = Date()
            s.lastUpdateSeconds = Self.seconds(ContinuousClock.now - started)
        }
        guard let active = watcher, let walked else { return false }
        // Watch what discovery walked, and only that: a folder newly ignored (a .gitignore edit) stops
        // costing a watch, one newly un-ignored gains one.
        let wanted = Set(walked)
        for folder in active.folders where !wanted.contains(folder) { active.remove(folder) }
        var added = false
        for folder in walked where !active.folders.contains(folder) {
            switch (try? active.add(folder)) ?? .notAFolder {
            case .watching: added = true
            case .notAFolder: continue
            case .limitReached:
                fallBack(&watcher, reason: watchLimitReason(active))
                return false
            }
        }
        status.withLock { s in
            s.folders = active.count
            if s.mode == .starting { s.mode = .watching }
        }
        return added
    }

    private func watchLimitReason(_ active: DirectoryWatcher) -> String {
        if let limit = active.limit, active.count >= limit {
            return "the watcher's folder limit (\(limit)) is reached"
        }
        let kernel = (try? FileSystem.readFile("/proc/sys/fs/inotify/max_user_watches")).map { String(decoding: $0, as: UTF8.self) }
        let figure = kernel.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "?"
        return "the inotify watch limit is reached (fs.inotify.max_user_watches = \(figure), \(active.count) folders watched here)"
    }

    /// Gives up on inotify: says so once (log and status), then scans every `scanInterval`.
    private func fallBack(_ watcher: inout DirectoryWatcher?, reason: String) {
        watcher = nil
        logger.warning("\(root): \(reason); falling back to a stat scan every \(options.scanInterval)")
        status.withLock { s in
            s.mode = .scanning
            s.fallbackReason = reason
            s.folders = 0
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
