import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// Per-tool request counts, errors and latency histograms since the server started: kept here for
/// get_performance_metrics (percentiles, means), and recorded through swift-metrics into this server's
/// Prometheus registry, which renders GET /metrics.
public final class ToolMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds (Prometheus `le` labels).
    public static let bucketBounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    /// One tool's figures.
    public struct Tool: Sendable, Encodable {
        public var name: String
        public var requests = 0
        public var errors = 0
        public var totalSeconds = 0.0
        public var maxSeconds = 0.0
        /// Calls at or under each bound of `bucketBounds` (cumulative, like Prometheus buckets).
        public var buckets: [Int] = Array(repeating: 0, count: ToolMetrics.bucketBounds.count)
        /// Mean and estimated 50th/95th/99th percentile latency in milliseconds (from the buckets).
        public var meanMilliseconds: Double { requests == 0 ? 0 : totalSeconds / Double(requests) * 1000 }
        public func percentileMilliseconds(_ p: Double) -> Double {
            guard requests > 0 else { return 0 }
            let rank = Int((p * Double(requests)).rounded(.up))
            for (index, count) in buckets.enumerated() where count >= rank { return ToolMetrics.bucketBounds[index] * 1000 }
            return maxSeconds * 1000
        }

        enum CodingKeys: String, CodingKey { case name, requests, errors, meanMs, p50Ms, p95Ms, p99Ms, maxMs }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(requests, forKey: .requests)
            try c.encode(errors, forKey: .errors)
            try c.encode(meanMilliseconds, forKey: .meanMs)
            try c.encode(percentileMilliseconds(0.5), forKey: .p50Ms)
            try c.encode(percentileMilliseconds(0.95), forKey: .p95Ms)
            try c.encode(percentileMilliseconds(0.99), forKey: .p99Ms)
            try c.encode(maxSeconds * 1000, forKey: .maxMs)
        }
    }

    private struct State {
        var tools: [String: Tool] = [:]
        /// The last total seen of each counter kept elsewhere (`advance`).
        var totals: [String: Int] = [:]
    }

    private let state = Mutex(State())
    /// When recording started.
    public let started = Date()
    /// This server's Prometheus registry (one per server, so that servers in one process never mix figures).
    public let registry = PrometheusCollectorRegistry()
    /// swift-metrics over `registry`, with the latency buckets of `bucketBounds`.
    public let factory: PrometheusMetricsFactory

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["codesage_tool_duration_seconds"] = Self.bucketBounds.map { .milliseconds(Int64(($0 * 1000).rounded())) }
        self.factory = factory
    }

    /// Records one call of `tool` that took `seconds` and failed or not.
    public func record(tool: String, seconds: Double, failed: Bool) {
        state.withLock { s in
            var entry = s.tools[tool] ?? Tool(name: tool)
            entry.requests += 1
            if failed { entry.errors += 1 }
            entry.totalSeconds += seconds
            entry.maxSeconds = max(entry.maxSeconds, seconds)
            for (index, bound) in Self.bucketBounds.enumerated() where seconds <= bound { entry.buckets[index] += 1 }
            s.tools[tool] = entry
        }
        let labels = [("tool", tool)]
        Counter(label: "codesage_tool_requests_total", dimensions: labels, factory: factory).increment()
        // Present (at 0) for every tool that was called, so a rate over it is defined.
        let errors = Counter(label: "codesage_tool_errors_total", dimensions: labels, factory: factory)
        if failed { errors.increment() }
        Timer(label: "codesage_tool_duration_seconds", dimensions: labels, factory: factory)
            .recordNanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// Every tool's figures, by name.
    public func snapshot() -> [Tool] {
        state.withLock { $0.tools.values.sorted { $0.name < $1.name } }
    }

    /// How far the counter keyed `key` must advance to reach `total` (0 when it is there already); remembers `total`.
    func advance(_ key: String, to total: Int) -> Int {
        state.withLock { s in
            let delta = max(0, total - (s.totals[key] ?? 0))
            s.totals[key] = max(total, s.totals[key] ?? 0)
            return delta
        }
    }

    /// The Prometheus text exposition of everything in the registry.
    public func prometheus() -> String { registry.emitToString() }
}
