import BuildCore
import CoreMetrics

/// An ``AttestationStore`` that counts signed artifacts and the results of rebuild checks
/// (`--verify-rebuilds`) as they are saved: `prox_attestations_total` and
/// `prox_rebuild_checks_total{result}` (`reproduced`, `differs`, `failed`).
public struct MeteredAttestationStore: AttestationStore {
    public let base: any AttestationStore
    let metrics: ProxMetrics

    public init(_ base: any AttestationStore, metrics: ProxMetrics) {
        self.base = base
        self.metrics = metrics
        _ = metrics.counter("prox_attestations_total")
        for result in ["reproduced", "differs", "failed"] { _ = metrics.counter("prox_rebuild_checks_total", [("result", result)]) }
    }

    public func attestation(for key: CacheKey) async throws(ProxError) -> SignedProvenance? { try await base.attestation(for: key) }

    public func saveAttestation(_ attestation: SignedProvenance, for key: CacheKey) async throws(ProxError) {
        let before = try? await base.attestation(for: key)
        try await base.saveAttestation(attestation, for: key)
        if before == nil { metrics.counter("prox_attestations_total").increment() }
        if let state = attestation.reproduction?.state, state != .pending, before?.reproduction?.state != state {
            metrics.counter("prox_rebuild_checks_total", [("result", state.rawValue)]).increment()
        }
    }
}
