import NIOPosix

/// Runs blocking work (model, FAISS, SQLite, file reads) on NIO's shared blocking pool, off Swift's
/// cooperative pool, so that a slow tool never starves the transports. The pool has one thread per CPU
/// this process may run on (NIO reads the affinity mask and the cgroup quota), so work beyond that
/// waits its turn instead of oversubscribing the cores; work not yet started when the calling task is
/// cancelled (an HTTP client that closed its connection) never runs and throws CancellationError.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}
