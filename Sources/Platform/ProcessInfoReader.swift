import CPlatform
import CodeSageCore
#if canImport(Glibc)
import Glibc
#endif

/// Facts about this process and machine that come from libc.
public enum ProcessInfoReader {
    /// The whole process environment.
    public static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }

    /// One environment variable. Only for process plumbing (HOME, TMPDIR); settings go through Configuration.
    public static func environmentValue(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The home folder: $HOME, or the passwd entry.
    public static func homeDirectory() -> String? {
        if let home = environmentValue("HOME"), !home.isEmpty { return home }
        guard let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }

    /// CPUs this process may run on (its affinity mask), at least 1.
    public static func onlineCPUCount() -> Int {
        let count = Int(cs_affinity_cpu_count())
        if count > 0 { return count }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The absolute path of the running executable (from /proc/self/exe; argv[0] may be relative).
    public static func executablePath() throws(CodeSageError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = try SystemCall.retrying("readlink /proc/self/exe") { readlink("/proc/self/exe", &buffer, buffer.count - 1) }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The 1, 5 and 15-minute load averages as /proc/loadavg gives them ("0.36 1.06 0.97"), or "?" if unreadable.
    public static func loadAverage() -> String {
        guard let text = try? FileSystem.readText("/proc/loadavg") else { return "?" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// The page size in bytes.
    public static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }
}
