/// The one error type of CodeSage: a code, a message a person can act on, the underlying cause, and where it was raised.
public struct CodeSageError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; each kind has a documented process exit code.
    public enum Code: String, Sendable, CaseIterable {
        /// A CODESAGE_* setting, an env file or a flag has a value that is not accepted.
        case invalidConfiguration = "invalid-configuration"
        /// A request or command-line argument is malformed.
        case invalidArgument = "invalid-argument"
        /// A file, folder, index or model that is needed does not exist.
        case notFound = "not-found"
        /// A file exists but its contents are damaged or of the wrong format.
        case corruptData = "corrupt-data"
        /// A read, write, map or other system call failed.
        case io = "io"
        /// A capability this build does not provide yet, or one the machine lacks.
        case unavailable = "unavailable"
        /// Another process holds a resource (for example the index lock).
        case busy = "busy"
        /// A native library (FAISS, SQLite, zstd, lz4, hwloc) reported an error.
        case native = "native"
        /// A bug: an invariant of CodeSage itself did not hold.
        case `internal` = "internal"

        /// The process exit code for this kind of failure (BSD sysexits values).
        public var exitCode: Int32 {
            switch self {
            case .invalidArgument: 64      // EX_USAGE
            case .corruptData: 65          // EX_DATAERR
            case .notFound: 66             // EX_NOINPUT
            case .unavailable: 69          // EX_UNAVAILABLE
            case .internal, .native: 70    // EX_SOFTWARE
            case .io: 74                   // EX_IOERR
            case .busy: 75                 // EX_TEMPFAIL
            case .invalidConfiguration: 78 // EX_CONFIG
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// What went wrong and, where possible, what to do about it.
    public let message: String
    /// The error that caused this one, if any.
    public let cause: (any Error)?
    /// The source file that raised the error.
    public let file: String
    /// The line in `file`.
    public let line: Int

    /// Creates an error; `file` and `line` default to the caller's location.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.file = file
        self.line = line
    }

    /// One line: the message, then the cause if there is one.
    public var description: String {
        guard let cause else { return message }
        return "\(message) (cause: \(cause))"
    }

    /// The message with the code and location, for logs.
    public var debugDescription: String {
        "[\(code.rawValue) at \(file):\(line)] \(description)"
    }
}
