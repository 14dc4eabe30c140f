import CPlatform
import CodeSageCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Child processes and signals: spawn (never fork), reap, signal, and follow the parent's death.
public enum Processes {
    /// How a reaped child ended.
    public enum Exit: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): return "exited with status \(code)"
            case .signalled(let signal): return "killed by signal \(signal)"
            }
        }
    }

    /// Starts `executable` with `arguments` (argv[1...]) and exactly `environment`, by posix_spawn with every
    /// signal unblocked and the supervisor's signals back to their default action. Returns the child's pid.
    public static func spawn(executable: String, arguments: [String], environment: [String: String]) throws(CodeSageError) -> Int32 {
        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: Int32 = 0
        let status = (argv + [nil]).withUnsafeBufferPointer { a in
            (envp + [nil]).withUnsafeBufferPointer { e in cs_spawn(executable, a.baseAddress, e.baseAddress, &pid) }
        }
        guard status == 0 else { throw CodeSageError(.io, "cannot start \(executable): \(SystemCall.errnoText(status))") }
        return pid
    }

    /// Reaps every child that has ended, without waiting.
    public static func reapEnded() -> [(pid: Int32, exit: Exit)] {
        var ended: [(Int32, Exit)] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return ended }
            ended.append((pid, decode(status)))
        }
    }

    /// Waits for child `pid` to end and reaps it.
    public static func wait(for pid: Int32) throws(CodeSageError) -> Exit {
        var status: Int32 = 0
        try SystemCall.retrying("waitpid \(pid)") { waitpid(pid, &status, 0) }
        return decode(status)
    }

    /// A wait status decoded (WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot call).
    private static func decode(_ status: Int32) -> Exit {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// Sends `signal` to `pid`; false when the process does not exist (or is not ours).
    @discardableResult
    public static func send(_ signal: Int32, to pid: Int32) -> Bool { kill(pid, signal) == 0 }

    /// Whether `pid` names a live process (a zombie counts as live until reaped).
    public static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// The calling process's pid and its parent's.
    public static var currentPID: Int32 { getpid() }
    public static var parentPID: Int32 { getppid() }

    /// Has the kernel send `signal` to this process when the thread that spawned it exits.
    public static func setParentDeathSignal(_ signal: Int32) throws(CodeSageError) {
        try SystemCall.retrying("prctl(PR_SET_PDEATHSIG)") { cs_set_parent_death_signal(signal) }
    }

    /// The thread ids of this process (/proc/self/task).
    public static func threadIDs() -> [Int32] {
        ((try? FileSystem.listDirectory("/proc/self/task")) ?? []).compactMap { Int32($0.name) }
    }

    /// Binds every thread of this process that exists now to `cpus` (threads started later inherit the
    /// binding of the thread that starts them). Returns how many threads were bound.
    @discardableResult
    public static func bindAllThreads(toCPUs cpus: [Int]) throws(CodeSageError) -> Int {
        guard !cpus.isEmpty else { throw CodeSageError(.invalidArgument, "empty CPU list") }
        let list = cpus.map { Int32(clamping: $0) }
        var bound = 0
        for tid in threadIDs() {
            let status = list.withUnsafeBufferPointer { cs_bind_task_to_cpus(tid, $0.baseAddress, $0.count) }
            if status == 0 { bound += 1; continue }
            if errno == ESRCH { continue }  // the thread ended meanwhile
            throw CodeSageError(.invalidArgument, "cannot bind thread \(tid) to CPUs \(CPUAffinity.compress(cpus)): \(SystemCall.errnoText(errno))")
        }
        return bound
    }

    /// The CPUs process `pid` may run on ("Cpus_allowed_list" of /proc/PID/status), e.g. "0-3,8".
    public static func allowedCPUs(pid: String = "self") -> String? {
        guard let text = try? FileSystem.readText("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Cpus_allowed_list:") {
            return line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
