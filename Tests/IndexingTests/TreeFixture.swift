import Foundation
import Testing
@testable import IndexStore
@testable import Indexing
@testable import SourceModel
@testable import Platform

/// A throw-away tree of files, folders and links under a fresh temporary folder.
final class TreeFixture {
    let root: String

    init() throws {
        root = try FileSystem.makeTemporaryFolder(prefix: "codesage-discovery")
    }

    deinit {
        // Undo any chmod 000 so that the tree can be removed.
        if let paths = FileManager.default.subpaths(atPath: root) {
            for path in paths { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(root)/\(path)") }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Writes `contents` to `path` (relative to the root), creating folders on the way.
    func write(_ path: String, _ contents: String = "") throws {
        try write(path, bytes: Array(contents.utf8))
    }

    /// Writes raw bytes to `path` (relative to the root), creating folders on the way.
    func write(_ path: String, bytes: [UInt8]) throws {
        let full = "\(root)/\(path)"
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileSystem.writeDurably(bytes, to: full)
    }

    /// Creates the folder `path` (relative to the root).
    func folder(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: "\(root)/\(path)", withIntermediateDirectories: true)
    }

    /// Creates a symbolic link at `path` (relative to the root) whose content is `target`, as written.
    func link(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: "\(root)/\(path)", withDestinationPath: target)
    }

    /// Runs a shell command in the root (for what Foundation cannot make: FIFOs, names that are not UTF-8).
    func shell(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(command)")
    }

    func discover(_ options: DiscoveryOptions = .init()) throws -> DiscoveryResult {
        try FileDiscovery.discover(root: root, options: options)
    }
}
