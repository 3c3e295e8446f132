import BuildCore
import CoreMetrics

/// A ``BuildRunner`` that counts its builds (an agent's): `prox_builds_total{outcome}`,
/// `prox_build_duration_seconds{outcome}` and `prox_build_slots_busy`.
public struct MeteredBuildRunner: BuildRunner {
    public let base: any BuildRunner
    let metrics: ProxMetrics

    public init(_ base: any BuildRunner, metrics: ProxMetrics) {
        self.base = base
        self.metrics = metrics
        metrics.gauge("prox_build_slots_busy").set(0)
    }

    public func settings() async throws(ProxError) -> BuildSettings { try await base.settings() }

    public func build(_ build: ResolvedBuild, output: String, events: @escaping BuildEventSink) async throws(ProxError) {
        let busy = metrics.gauge("prox_build_slots_busy")
        busy.increment(by: 1)
        let began = ContinuousClock.now
        var outcome = "succeeded"
        defer {
            busy.decrement(by: 1)
            metrics.timer("prox_build_duration_seconds", [("outcome", outcome)]).recordInterval(began, .now)
            metrics.counter("prox_builds_total", [("outcome", outcome)]).increment()
        }
        do {
            try await base.build(build, output: output, events: events)
        } catch {
            outcome = ProxMetrics.outcome(of: error)
            throw error
        }
    }
}
