import Dispatch

/// Runs blocking work (model, FAISS, SQLite, file reads) on a Dispatch thread, off Swift's
/// cooperative pool, so that a slow tool never starves the transports.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
    }
}
