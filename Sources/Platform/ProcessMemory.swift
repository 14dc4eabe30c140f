import Foundation
import CodeSageCore
import CPlatform

/// Memory figures of a process as the kernel reports them, in bytes.
public struct ProcessMemory: Sendable, Equatable {
    /// Resident set size (VmRSS).
    public var rss: UInt64 = 0
    /// Peak resident set size (VmHWM).
    public var peakRSS: UInt64 = 0
    /// Virtual size (VmSize).
    public var virtualSize: UInt64 = 0
    /// Proportional set size: private pages plus each shared page divided by its mappers.
    public var pss: UInt64 = 0
    /// Unique set size: Private_Clean + Private_Dirty.
    public var uss: UInt64 = 0
    /// Shared_Clean + Shared_Dirty.
    public var shared: UInt64 = 0
    /// Swapped-out anonymous memory.
    public var swap: UInt64 = 0
    /// Anonymous and file-backed parts of Pss.
    public var pssAnon: UInt64 = 0
    public var pssFile: UInt64 = 0

    /// All figures zero (fill in what is known).
    public init() {}

    /// Reads /proc/<pid>/status and /proc/<pid>/smaps_rollup ("self" for this process).
    public static func read(pid: String = "self") throws(CodeSageError) -> ProcessMemory {
        var memory = ProcessMemory()
        let status = try FileSystem.readText("/proc/\(pid)/status")
        memory.apply(status: status)
        let rollup = try FileSystem.readText("/proc/\(pid)/smaps_rollup")
        memory.apply(smapsRollup: rollup)
        return memory
    }

    /// Takes VmRSS, VmHWM, VmSize and VmSwap from /proc/PID/status text.
    public mutating func apply(status text: String) {
        let fields = Self.kilobyteFields(text)
        rss = fields["VmRSS"] ?? rss
        peakRSS = fields["VmHWM"] ?? peakRSS
        virtualSize = fields["VmSize"] ?? virtualSize
        swap = fields["VmSwap"] ?? swap
    }

    /// Takes Pss, Private_*, Shared_* and Swap from /proc/PID/smaps_rollup text.
    public mutating func apply(smapsRollup text: String) {
        let fields = Self.kilobyteFields(text)
        pss = fields["Pss"] ?? pss
        pssAnon = fields["Pss_Anon"] ?? pssAnon
        pssFile = fields["Pss_File"] ?? pssFile
        uss = (fields["Private_Clean"] ?? 0) + (fields["Private_Dirty"] ?? 0)
        shared = (fields["Shared_Clean"] ?? 0) + (fields["Shared_Dirty"] ?? 0)
        if let swapped = fields["Swap"] { swap = swapped }
    }

    /// Parses `Name:   1234 kB` lines into bytes.
    static func kilobyteFields(_ text: String) -> [String: UInt64] {
        var fields: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let parts = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count == 2, parts[1] == "kB", let value = UInt64(parts[0]) else { continue }
            fields[String(line[..<colon])] = value * 1024
        }
        return fields
    }
}

/// The machine's memory, from /proc/meminfo.
public struct SystemMemory: Sendable, Equatable {
    /// MemTotal in bytes.
    public var total: UInt64
    /// MemAvailable in bytes: what can be allocated without swapping.
    public var available: UInt64

    /// Reads /proc/meminfo.
    public static func read() throws(CodeSageError) -> SystemMemory {
        let fields = ProcessMemory.kilobyteFields(try FileSystem.readText("/proc/meminfo"))
        return SystemMemory(total: fields["MemTotal"] ?? 0, available: fields["MemAvailable"] ?? 0)
    }
}

extension ProcessMemory {
    /// Hands memory that malloc holds but no longer uses back to the kernel (glibc `malloc_trim(0)`);
    /// returns whether any was released.
    @discardableResult
    public static func releaseFreedMemory() -> Bool { cs_malloc_trim() == 1 }

    /// Resident bytes of this process's mappings of each file in `paths` (Rss of its /proc/self/smaps entries; 0 when not mapped).
    public static func residentBytesOfMappings(_ paths: Set<String>) -> [String: Int] {
        var resident: [String: Int] = [:]
        guard !paths.isEmpty, let text = try? FileSystem.readText("/proc/self/smaps") else { return resident }
        var current: String?
        for line in text.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") {
                // "start-end perms offset dev inode   path"
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
                let path = fields.count == 6 ? String(fields[5]).trimmingCharacters(in: .whitespaces) : ""
                current = paths.contains(path) ? path : nil
            } else if let path = current, line.hasPrefix("Rss:") {
                let value = line.dropFirst(4).split(separator: " ").first.flatMap { Int($0) } ?? 0
                resident[path, default: 0] += value * 1024
            }
        }
        return resident
    }

    /// Bytes the C heap has handed out and not had back (glibc `mallinfo2`), for measuring what a structure really costs.
    public static func heapBytesInUse() -> Int { Int(cs_heap_bytes_in_use()) }
}
