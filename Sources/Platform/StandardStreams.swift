import CodeSageCore
#if canImport(Glibc)
import Glibc
#endif

/// Keeps stdout clean for a protocol: C libraries (FAISS, OpenBLAS) print to fd 1, MCP stdio owns it.
public enum StandardStreams {
    /// Duplicates fd 1 for the protocol, then points fd 1 at stderr so stray prints go to the log.
    /// - Returns: the descriptor that writes to the original stdout.
    public static func reserveStdoutForProtocol() throws(CodeSageError) -> Int32 {
        fflush(nil)
        let protocolFD = try SystemCall.retrying("dup stdout") { dup(1) }
        _ = fcntl(protocolFD, F_SETFD, FD_CLOEXEC)
        try SystemCall.retrying("redirect stdout to stderr") { dup2(2, 1) }
        return protocolFD
    }

    /// Writes a line to stderr, unbuffered.
    public static func writeError(_ line: String) {
        var text = line
        if !text.hasSuffix("\n") { text += "\n" }
        text.utf8CString.withUnsafeBufferPointer { buffer in
            _ = write(2, buffer.baseAddress, buffer.count - 1)
        }
    }
}

extension StandardStreams {
    /// Whether stderr is a terminal (progress bars are drawn only then).
    public static var standardErrorIsTerminal: Bool { isatty(2) == 1 }
}
