import BuildCore
import Foundation
import GRDB

/// The ``AttestationStore`` in the cache's SQLite file (table `attestation`): one signed
/// provenance per cached artifact, deleted with the artifact's row (a foreign key with
/// `ON DELETE CASCADE`), so eviction, pruning, removal and start-up repair take it along.
public struct SQLiteAttestationStore: AttestationStore {
    let db: DatabasePool

    public func attestation(for key: CacheKey) async throws(ProxError) -> SignedProvenance? {
        let data: Data?
        do {
            data = try await db.read { db in try Data.fetchOne(db, sql: "SELECT data FROM attestation WHERE key = ?", arguments: [key.hex]) }
        } catch {
            throw ProxError(.internal, "cannot read the cache index: \(error)")
        }
        guard let data else { return nil }
        do {
            return try JSONDecoder.prox.decode(SignedProvenance.self, from: data)
        } catch {
            throw ProxError(.internal, "the stored provenance of \(key.hex) cannot be read: \(error)")
        }
    }

    /// Rebuild checks still `pending` from a run that stopped before they finished are
    /// marked `failed`, saying so (at start, before any new one is queued). Returns how many.
    @discardableResult
    public func failInterruptedReproductions() async throws(ProxError) -> Int {
        do {
            return try await db.write { db in
                try db.execute(
                    sql: """
                        UPDATE attestation
                        SET data = json_set(data, '$.reproduction.state', 'failed',
                            '$.reproduction.detail', 'the rebuild was interrupted: proxhub stopped before it finished')
                        WHERE json_extract(data, '$.reproduction.state') = 'pending'
                        """
                )
                return db.changesCount
            }
        } catch {
            throw ProxError(.internal, "cannot update the cache index: \(error)")
        }
    }

    public func saveAttestation(_ attestation: SignedProvenance, for key: CacheKey) async throws(ProxError) {
        let data: Data
        do {
            data = try JSONEncoder.prox.encode(attestation)
        } catch {
            throw ProxError(.internal, "cannot encode provenance: \(error)")
        }
        do {
            try await db.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO attestation (key, data, signed_at) VALUES (?, ?, ?)
                        ON CONFLICT (key) DO UPDATE SET data = excluded.data, signed_at = excluded.signed_at
                        """,
                    arguments: [key.hex, data, Date().timeIntervalSince1970]
                )
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw ProxError(.notFound, "no artifact is cached under \(key.hex) any more (evicted)")
        } catch {
            throw ProxError(.internal, "cannot store provenance: \(error)")
        }
    }
}
