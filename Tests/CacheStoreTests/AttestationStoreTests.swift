import BuildCore
import Foundation
import ProxTestSupport
import Testing

@testable import CacheStore

/// Signed provenance in the cache's SQLite file: kept per artifact, replaced by a newer
/// one, gone with its artifact, refused for an artifact that is not there; rebuild checks
/// a stopped run left pending are marked failed.
@Suite struct AttestationStoreTests {
    static func signed(_ note: String, reproduction: Reproduction? = nil) throws -> SignedProvenance {
        let key = SigningKey.generate()
        return SignedProvenance(envelope: try DSSEEnvelope.sign(Array(note.utf8), key: key), minisig: note, keyID: key.publicKey.id, reproduction: reproduction)
    }

    @Test func provenanceLivesAndGoesWithItsArtifact() async throws {
        let root = Fixture.temporaryDirectory("prox-attest")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let key = build.cacheKey
        await #expect(throws: ProxError.self, "no artifact, no provenance") { try await cache.attestations.saveAttestation(try Self.signed("a"), for: key) }

        _ = try await CacheFixture.commit(build, size: 1000, seed: 1, to: cache)
        let first = try Self.signed("first")
        try await cache.attestations.saveAttestation(first, for: key)
        #expect(try await cache.attestations.attestation(for: key) == first)
        let second = try Self.signed("second", reproduction: Reproduction(state: .pending))
        try await cache.attestations.saveAttestation(second, for: key)
        #expect(try await cache.attestations.attestation(for: key) == second, "a newer one replaces it")

        #expect(try await cache.attestations.failInterruptedReproductions() == 1)
        let failed = try #require(try await cache.attestations.attestation(for: key)?.reproduction)
        #expect(failed.state == .failed)
        #expect(failed.detail == "the rebuild was interrupted: proxhub stopped before it finished")
        #expect(try await cache.attestations.failInterruptedReproductions() == 0)

        #expect(try await cache.remove(key))
        #expect(try await cache.attestations.attestation(for: key) == nil, "removed with the artifact")
    }
}
