/// The hub's signer: makes each artifact's provenance from the binary itself (its Go build
/// information), signs it and keeps it beside the artifact. Only hubs hold the key:
/// agents push, the hub checks the digest and signs.
public protocol Attestor: Sendable {
    /// The public keys artifacts may be signed with, the current one first (older ones stay
    /// published so artifacts they signed stay verifiable).
    var publicKeys: [PublicSigningKey] { get }

    /// Makes, signs and stores the provenance of a newly built artifact.
    func attest(_ artifact: ArtifactRecord, run: ProvenanceStatement.Run) async throws(ProxError) -> SignedProvenance

    /// The stored provenance of `artifact`; made now, without run details, for an artifact
    /// cached before it had any.
    func attestation(of artifact: ArtifactRecord) async throws(ProxError) -> SignedProvenance
}
