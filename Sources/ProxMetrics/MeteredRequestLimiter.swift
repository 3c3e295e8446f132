import BuildCore
import CoreMetrics

/// A ``RequestRateLimiter`` that counts its refusals: `prox_rate_limited_total{limit="requests"}`.
/// (Refused builds, `--client-build-rate` and `--client-concurrent-builds`, show as 429s
/// in `prox_http_requests_total`.)
public struct MeteredRequestLimiter: RequestRateLimiter {
    public let base: any RequestRateLimiter
    let metrics: ProxMetrics

    public init(_ base: any RequestRateLimiter, metrics: ProxMetrics) {
        self.base = base
        self.metrics = metrics
        _ = metrics.counter("prox_rate_limited_total", [("limit", "requests")])
    }

    public func count(_ client: ClientID) async -> Int? {
        let refused = await base.count(client)
        if refused != nil { metrics.counter("prox_rate_limited_total", [("limit", "requests")]).increment() }
        return refused
    }

    /// The base's, uncounted here: a request it refuses is handed to the ordinary path,
    /// which counts it again, refuses it (429) and records the refusal once.
    public var immediateCounter: (@Sendable (ClientID) -> Int?)? { base.immediateCounter }
}
