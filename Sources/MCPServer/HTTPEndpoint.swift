import CodeSageCore

/// Where an HTTP server listens: a TCP host and port, or a Unix socket path.
public enum HTTPEndpoint: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Parses `HOST:PORT` (IPv6 as `[::1]:PORT`).
    public static func parseTCP(_ text: String) throws(CodeSageError) -> HTTPEndpoint {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port) else {
            throw CodeSageError(.invalidArgument, "--http expects HOST:PORT such as 127.0.0.1:8080, got \"\(text)\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw CodeSageError(.invalidArgument, "--http: missing host in \"\(text)\"") }
        return .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }
}
