import CodeSageCore
import Platform

/// A file found under the root that is to be indexed.
public struct DiscoveredFile: Sendable, Equatable {
    /// "/"-separated, relative to the root, no leading "./"; a file reached through a link is named by the link's path.
    public var relativePath: String
    /// Size in bytes.
    public var size: Int64
    /// Last modification time in nanoseconds since the epoch.
    public var modificationTime: Int64
    /// The language from the file's name (`Language.detect(path:)`); a shebang is checked later, from the content.
    public var language: Language?

    /// Creates a discovered file from its parts.
    public init(relativePath: String, size: Int64, modificationTime: Int64, language: Language?) {
        self.relativePath = relativePath
        self.size = size
        self.modificationTime = modificationTime
        self.language = language
    }
}

/// Why a path under the root was not indexed.
public enum SkipReason: String, Sendable, Codable {
    /// An ignore rule matched it (an ignored folder is reported once, not per file inside).
    case ignored
    /// Larger than `DiscoveryOptions.maxFileSize`.
    case tooLarge
    /// A symbolic link whose target lies outside the root.
    case symlinkEscapesRoot
    /// A symbolic link to a folder that is already on the path being walked (or a link that points at itself).
    case symlinkLoop
    /// Cannot be read or examined: a dangling link, a folder without permission, a name that is not UTF-8,
    /// an ignore file that cannot be read.
    case unreadable
    /// A socket, FIFO or device.
    case special
    /// Holds a NUL byte in its first 8,000 bytes (git's rule), found when read.
    case binary
    /// Gone between discovery and reading.
    case vanished
    /// No longer a regular file inside the root when read (swapped for a link, a FIFO or a device).
    case changedType
}

/// A path under the root that was not indexed, and why.
public struct SkippedPath: Sendable, Equatable, Codable {
    /// "/"-separated, relative to the root.
    public var relativePath: String
    /// Why it was skipped.
    public var reason: SkipReason
    /// What the system said, when it said something (an errno text).
    public var detail: String?

    /// Creates a skipped path from its parts.
    public init(relativePath: String, reason: SkipReason, detail: String? = nil) {
        self.relativePath = relativePath
        self.reason = reason
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey { case relativePath = "path", reason, detail }
}

/// What discovery walks and what it leaves out.
public struct DiscoveryOptions: Sendable {
    /// Files larger than this many bytes are skipped (`.tooLarge`). Default 1 MiB.
    public var maxFileSize: Int64
    /// Entries with these names are never entered nor reported. Default `.git` and `.codesage`
    /// (a `.git` file, as in worktrees and submodules, is left out too).
    public var excludedDirectoryNames: Set<String>
    /// Absolute paths never entered nor reported, e.g. an index folder inside the root. Default none.
    public var excludedPaths: Set<String>
    /// The ignore files read in every folder, in this order (a later one overrides an earlier one).
    /// Default `.gitignore`, then `.codesageignore`.
    public var ignoreFileNames: [String]

    /// Creates options; every argument has the default documented on its property.
    public init(
        maxFileSize: Int64 = 1_048_576,
        excludedDirectoryNames: Set<String> = [".git", ".codesage"],
        excludedPaths: Set<String> = [],
        ignoreFileNames: [String] = [".gitignore", ".codesageignore"]
    ) {
        self.maxFileSize = maxFileSize
        self.excludedDirectoryNames = excludedDirectoryNames
        self.excludedPaths = excludedPaths
        self.ignoreFileNames = ignoreFileNames
    }
}

/// The outcome of one discovery walk.
public struct DiscoveryResult: Sendable {
    /// The files to index, sorted by `relativePath` (byte order of the UTF-8 path).
    public var files: [DiscoveredFile]
    /// The paths left out and why, sorted by `relativePath`.
    public var skipped: [SkippedPath]
    /// The absolute paths of the folders walked (the root first; through links as walked): what a watcher
    /// of the tree watches.
    public var folders: [String]

    /// Creates a result from its parts.
    public init(files: [DiscoveredFile], skipped: [SkippedPath], folders: [String] = []) {
        self.files = files
        self.skipped = skipped
        self.folders = folders
    }
}

/// Finds the files of a tree that are to be indexed, honouring git's ignore rules, without reading
/// their contents (one `lstat` per file), so that re-indexing can cheaply compare sizes and times.
public enum FileDiscovery {
    /// Walks the tree under `root`.
    ///
    /// Ignore rules: `.git/info/exclude` at the root, then in every folder the `ignoreFileNames`
    /// (scoped to that folder). Symbolic links are followed when their target lies inside the root
    /// (files are reported under the link's path); others are reported as skipped. Only a root that
    /// is missing, not a folder or unreadable throws; every other failure is a `SkippedPath`.
    public static func discover(root: String, options: DiscoveryOptions = .init()) throws(CodeSageError) -> DiscoveryResult {
        let rootReal = try FileSystem.realPath(resolving: root)
        let rootStatus = try FileSystem.status(of: rootReal, followingLinks: true)
        guard rootStatus.kind == .directory else {
            throw CodeSageError(.invalidArgument, "cannot index \(root): it is not a folder")
        }
        let rootEntries = try FileSystem.listDirectory(rootReal)
        var walker = Walker(rootReal: rootReal, options: options)
        var rules = IgnoreRules()
        if let exclude = try? FileSystem.readFile(walker.absolute(".git/info/exclude")) {
            rules.add(contentsOf: exclude, directory: "")
        }
        walker.walk(Walker.Folder(relative: "", absolute: rootReal, identity: FolderIdentity(rootStatus), ancestors: [], rules: rules), entries: rootEntries)
        walker.files.sort { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
        walker.skipped.sort { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
        return DiscoveryResult(files: walker.files, skipped: walker.skipped, folders: walker.folders)
    }
}

/// A folder's identity on disk, to recognise a folder reached again through a link.
private struct FolderIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64

    init(_ status: FileStatus) {
        device = status.device
        inode = status.inode
    }
}

/// The state of one discovery walk: an explicit stack of folders, so deep trees cannot overflow the call stack.
private struct Walker {
    /// A folder waiting to be listed.
    struct Folder {
        /// Relative to the root ("" for the root), through links as walked.
        var relative: String
        /// The absolute path it is opened by (through links as walked).
        var absolute: String
        /// Its device and inode.
        var identity: FolderIdentity
        /// The identities of the folders above it on the walked path.
        var ancestors: [FolderIdentity]
        /// The ignore rules of the folders above it.
        var rules: IgnoreRules
    }

    let rootReal: String
    let options: DiscoveryOptions
    /// `options.excludedPaths`, resolved where they exist, without trailing "/".
    let excludedPaths: Set<String>
    var files: [DiscoveredFile] = []
    var skipped: [SkippedPath] = []
    var folders: [String] = []

    init(rootReal: String, options: DiscoveryOptions) {
        self.rootReal = rootReal
        self.options = options
        var excluded: Set<String> = []
        for path in options.excludedPaths {
            var trimmed = path
            while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
            excluded.insert(trimmed)
            if let real = try? FileSystem.realPath(resolving: trimmed) { excluded.insert(real) }
        }
        self.excludedPaths = excluded
    }

    /// The absolute path of `relative` under the real root.
    func absolute(_ relative: String) -> String {
        rootReal == "/" ? "/" + relative : rootReal + "/" + relative
    }

    /// Whether `realPath` is the root or inside it.
    func isInsideRoot(_ realPath: String) -> Bool {
        if rootReal == "/" || realPath == rootReal { return true }
        return realPath.utf8.count > rootReal.utf8.count + 1
            && realPath.hasPrefix(rootReal)
            && realPath.utf8[realPath.utf8.index(realPath.utf8.startIndex, offsetBy: rootReal.utf8.count)] == UInt8(ascii: "/")
    }

    /// Whether `realPath` is an excluded path or inside one.
    func isExcluded(_ realPath: String) -> Bool {
        if excludedPaths.isEmpty { return false }
        if excludedPaths.contains(realPath) { return true }
        return excludedPaths.contains { realPath.hasPrefix($0 == "/" ? $0 : $0 + "/") }
    }

    /// Walks `start`, whose entries are already listed, and everything below it.
    mutating func walk(_ start: Folder, entries startEntries: [DirectoryEntry]) {
        var pending: [(Folder, [DirectoryEntry]?)] = [(start, startEntries)]
        while let (folder, listed) = pending.popLast() {
            let entries: [DirectoryEntry]
            if let listed {
                entries = listed
            } else {
                do {
                    entries = try FileSystem.listDirectory(folder.absolute)
                } catch {
                    skipped.append(SkippedPath(relativePath: folder.relative, reason: .unreadable))
                    continue
                }
            }
            folders.append(folder.absolute)
            var rules = folder.rules
            var unreadableIgnoreFiles: Set<String> = []
            for name in options.ignoreFileNames where entries.contains(where: { $0.name == name && $0.kind == .regular }) {
                do {
                    rules.add(contentsOf: try FileSystem.readFile(join(folder.absolute, name)), directory: folder.relative)
                } catch {
                    unreadableIgnoreFiles.insert(name)
                }
            }
            let ancestors = folder.ancestors + [folder.identity]
            for entry in entries {
                let relative = folder.relative.isEmpty ? entry.name : folder.relative + "/" + entry.name
                if options.excludedDirectoryNames.contains(entry.name) { continue }
                if !entry.nameIsValidUTF8 || unreadableIgnoreFiles.contains(entry.name) {
                    skipped.append(SkippedPath(relativePath: relative, reason: .unreadable))
                    continue
                }
                let absolute = join(folder.absolute, entry.name)
                var kind = entry.kind
                var status: FileStatus? = nil
                if kind == .unknown {
                    guard let examined = try? FileSystem.status(of: absolute, followingLinks: false) else {
                        skipped.append(SkippedPath(relativePath: relative, reason: .unreadable))
                        continue
                    }
                    kind = examined.kind
                    status = examined
                }
                switch kind {
                case .regular:
                    if isIgnored(relative, isDirectory: false, rules) {
                        skipped.append(SkippedPath(relativePath: relative, reason: .ignored))
                        continue
                    }
                    guard let examined = status ?? (try? FileSystem.status(of: absolute, followingLinks: false)) else {
                        skipped.append(SkippedPath(relativePath: relative, reason: .unreadable))
                        continue
                    }
                    addFile(relative, name: entry.name, examined)
                case .directory:
                    if isExcluded(absolute) { continue }
                    if isIgnored(relative, isDirectory: true, rules) {
                        skipped.append(SkippedPath(relativePath: relative, reason: .ignored))
                        continue
                    }
                    guard let examined = status ?? (try? FileSystem.status(of: absolute, followingLinks: false)) else {
                        skipped.append(SkippedPath(relativePath: relative, reason: .unreadable))
                        continue
                    }
                    let identity = FolderIdentity(examined)
                    if ancestors.contains(identity) {  // a bind mount of a folder above
                        skipped.append(SkippedPath(relativePath: relative, reason: .symlinkLoop))
                        continue
                    }
                    pending.append((Folder(relative: relative, absolute: absolute, identity: identity, ancestors: ancestors, rules: rules), nil))
                case .symlink:
                    followLink(relative, name: entry.name, absolute: absolute, ancestors: ancestors, rules: rules, pending: &pending)
                case .other, .unknown:
                    if isIgnored(relative, isDirectory: false, rules) {
                        skipped.append(SkippedPath(relativePath: relative, reason: .ignored))
                    } else {
                        skipped.append(SkippedPath(relativePath: relative, reason: .special))
                    }
                }
            }
        }
    }

    /// Handles a symbolic link: a file or folder inside the root is taken under the link's path; anything else is skipped.
    private mutating func followLink(
        _ relative: String, name: String, absolute: String, ancestors: [FolderIdentity], rules: IgnoreRules,
        pending: inout [(Folder, [DirectoryEntry]?)]
    ) {
        let target: FileStatus
        do {
            target = try FileSystem.status(of: absolute, followingLinks: true)
        } catch {
            if isIgnored(relative, isDirectory: false, rules) {
                skipped.append(SkippedPath(relativePath: relative, reason: .ignored))
            } else {
                let loops = (error.cause as? SystemErrno) == .tooManySymbolicLinks
                skipped.append(SkippedPath(relativePath: relative, reason: loops ? .symlinkLoop : .unreadable))
            }
            return
        }
        let isDirectory = target.kind == .directory
        if isIgnored(relative, isDirectory: isDirectory, rules) {
            skipped.append(SkippedPath(relativePath: relative, reason: .ignored))
            return
        }
        guard let real = try? FileSystem.realPath(resolving: absolute) else {
            skipped.append(SkippedPath(relativePath: relative, reason: .unreadable))
            return
        }
        guard isInsideRoot(real) else {
            skipped.append(SkippedPath(relativePath: relative, reason: .symlinkEscapesRoot))
            return
        }
        switch target.kind {
        case .regular:
            if isExcluded(real) { return }
            addFile(relative, name: name, target)
        case .directory:
            if isExcluded(real) || isExcluded(absolute) { return }
            let identity = FolderIdentity(target)
            if ancestors.contains(identity) {
                skipped.append(SkippedPath(relativePath: relative, reason: .symlinkLoop))
                return
            }
            pending.append((Folder(relative: relative, absolute: absolute, identity: identity, ancestors: ancestors, rules: rules), nil))
        case .symlink, .other, .unknown:
            skipped.append(SkippedPath(relativePath: relative, reason: .special))
        }
    }

    /// Takes a regular file, or skips it when it is over the size cap.
    private mutating func addFile(_ relative: String, name: String, _ status: FileStatus) {
        if status.size > options.maxFileSize {
            skipped.append(SkippedPath(relativePath: relative, reason: .tooLarge))
            return
        }
        files.append(DiscoveredFile(
            relativePath: relative, size: status.size, modificationTime: status.modificationTime,
            language: Language.detect(path: name)
        ))
    }

    /// Whether the rules ignore `relative` itself (its folders were checked on the way down).
    private func isIgnored(_ relative: String, isDirectory: Bool, _ rules: IgnoreRules) -> Bool {
        if rules.isEmpty { return false }
        return rules.verdict(for: relative, isDirectory: isDirectory) == .ignored
    }

    /// `folder` + "/" + `name`, without doubling the "/" of the file-system root.
    private func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
