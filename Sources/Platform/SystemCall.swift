import CodeSageCore
#if canImport(Glibc)
import Glibc
#endif

/// The one errno policy of the project: retry on EINTR, turn any other failure into a CodeSageError.
enum SystemCall {
    /// Calls `body` until it does not fail with EINTR; a result of -1 becomes an `.io` error naming `what`.
    @discardableResult
    static func retrying<T: BinaryInteger>(_ what: @autoclosure () -> String, _ body: () -> T) throws(CodeSageError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw CodeSageError(.io, "\(what()): \(errnoText(code))")
        }
    }

    /// The text of an errno value, e.g. "No such file or directory (errno 2)".
    static func errnoText(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
