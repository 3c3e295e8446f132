import BuildCore
import Foundation
import Logging

/// Signed provenance when artifacts live in a bucket: kept in the local index (with the
/// local copy of the artifact) and as `provenance/<cache key>.json` in the bucket, so a hub
/// that serves another hub's build serves the provenance that hub signed, not one made
/// again after the fact.
public struct BucketAttestationStore: AttestationStore {
    let local: SQLiteAttestationStore
    let bucket: any ObjectStore
    let logger: Logger

    public func attestation(for key: CacheKey) async throws(ProxError) -> SignedProvenance? {
        if let here = try await local.attestation(for: key) { return here }
        guard let there = try await fromBucket(key) else { return nil }
        try? await local.saveAttestation(there, for: key)
        return there
    }

    /// Saves it here (the artifact must be cached here), then in the bucket; a bucket that
    /// cannot take it is logged, not thrown: the local copy serves this hub.
    public func saveAttestation(_ attestation: SignedProvenance, for key: CacheKey) async throws(ProxError) {
        try await local.saveAttestation(attestation, for: key)
        do throws(ProxError) {
            let bytes: Data
            do {
                bytes = try JSONEncoder.prox.encode(attestation)
            } catch {
                throw ProxError(.internal, "cannot encode the provenance: \(error)")
            }
            try await bucket.putData(BucketArtifactStore.provenanceName(key), Array(bytes), contentType: "application/json")
        } catch {
            logger.error("cannot store the provenance in the bucket: other hubs will not find it", metadata: ["key": "\(key)", "error": "\(error.message)"])
        }
    }

    /// The provenance the bucket holds for `key`; nil when none, or unreadable (logged).
    func fromBucket(_ key: CacheKey) async throws(ProxError) -> SignedProvenance? {
        guard let bytes = try await bucket.getData(BucketArtifactStore.provenanceName(key), limit: BucketArtifactStore.documentLimit) else { return nil }
        do {
            return try JSONDecoder.prox.decode(SignedProvenance.self, from: Data(bytes))
        } catch {
            logger.error("the bucket's provenance for this key cannot be read", metadata: ["key": "\(key)", "error": "\(error)"])
            return nil
        }
    }
}
