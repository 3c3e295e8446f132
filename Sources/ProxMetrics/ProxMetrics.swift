import BuildCore
import CoreMetrics
import Foundation
import Prometheus

/// The metrics of one `proxhub` or `proxagent`: swift-metrics' API over a Prometheus
/// registry of its own (not the process-wide `MetricsSystem`, so that several hubs in one
/// process, as in the tests, keep separate counts), rendered in Prometheus's text format
/// at `/metrics`.
///
/// The `Metered…` types wrap BuildCore's seams (job queue, build runner, artifact store,
/// object store, rate limiter, attestation store) and count what crosses them, as
/// bazel-remote wraps its cache: the stores themselves know nothing of metrics. Values that
/// are states rather than events (cache size, queue depth, live agents) are read by
/// collectors just before each rendering.
public final class ProxMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    private let state = NSLock()
    /// swift-metrics unregisters a metric when its last object goes: every object is kept.
    nonisolated(unsafe) private var metrics: [String: AnyObject] = [:]
    nonisolated(unsafe) private var collectors: [@Sendable () async -> Void] = []
    nonisolated(unsafe) private var totals: [String: Int] = [:]

    /// Histogram buckets: builds take seconds to minutes, queue waits up to the build
    /// timeout, requests and object store calls milliseconds to seconds.
    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            "prox_build_duration_seconds": [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200].map { .seconds($0) },
            "prox_build_queue_wait_seconds": [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900].map { .milliseconds(Int64($0 * 1000)) },
        ]
        factory.defaultDurationHistogramBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60].map {
            .microseconds(Int64($0 * 1_000_000))
        }
        self.factory = factory
    }

    private static func key(_ name: String, _ dimensions: [(String, String)]) -> String {
        ([name] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1}")
    }

    public func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        cached(name, dimensions) { CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory) }
    }

    /// A histogram of durations (`name` should end in `_seconds`).
    public func timer(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Timer {
        cached(name, dimensions) { CoreMetrics.Timer(label: name, dimensions: dimensions, factory: factory) }
    }

    /// A value that goes up and down (a Prometheus gauge).
    public func gauge(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Meter {
        cached(name, dimensions) { CoreMetrics.Meter(label: name, dimensions: dimensions, factory: factory) }
    }

    /// The metric object of this kind, name and dimensions, made once and kept.
    private func cached<Metric: AnyObject>(_ name: String, _ dimensions: [(String, String)], make: () -> Metric) -> Metric {
        let key = "\(Metric.self)\u{1}" + Self.key(name, dimensions)
        return state.withLock {
            if let existing = metrics[key] as? Metric { return existing }
            let metric = make()
            metrics[key] = metric
            return metric
        }
    }

    /// Sets counter `name` to `total`, a running total kept elsewhere (evictions since
    /// start): it is advanced by what was added since the last call.
    public func advance(_ name: String, _ dimensions: [(String, String)] = [], to total: Int) {
        let key = Self.key(name, dimensions)
        let added = state.withLock { () -> Int in
            let added = max(0, total - (totals[key] ?? 0))
            totals[key] = max(total, totals[key] ?? 0)
            return added
        }
        counter(name, dimensions).increment(by: added)
    }

    /// Runs `collect` before each rendering, to set gauges from the state they report.
    public func addCollector(_ collect: @escaping @Sendable () async -> Void) {
        state.withLock { collectors.append(collect) }
    }

    /// The Prometheus text format (version 0.0.4) of every metric, collectors run first.
    public func render() async -> String {
        for collect in state.withLock({ collectors }) { await collect() }
        return registry.emitToString()
    }

    /// The `outcome` label of a build that threw `error`.
    public static func outcome(of error: ProxError) -> String {
        switch error.kind {
        case .buildFailed: "failed"
        case .buildTimedOut: "timed_out"
        case .cancelled: "cancelled"
        case .toolchainUnavailable: "toolchain_unavailable"
        case .invalidArtifact: "invalid_artifact"
        case .insufficientStorage: "no_space"
        default: "error"
        }
    }
}
