/// Where signed provenance is kept: beside its artifact, under the same ``CacheKey``, and
/// removed with it (evicted, pruned, replaced by a rebuild).
public protocol AttestationStore: Sendable {
    /// The provenance stored for `key`, if any.
    func attestation(for key: CacheKey) async throws(ProxError) -> SignedProvenance?
    /// Stores `attestation` for the artifact cached under `key`, replacing an older one.
    /// Throws `.notFound` when no artifact is cached under `key` (evicted meanwhile).
    func saveAttestation(_ attestation: SignedProvenance, for key: CacheKey) async throws(ProxError)
}
