import BuildCore
import Foundation
import GRDB
import Logging

/// The ``CompatibilityStore`` in the cache's SQLite file: table `compatibility`, one row
/// per plugin version, Caddy version, Go version and target, with its counts.
public struct SQLiteCompatibilityStore: CompatibilityStore {
    let db: DatabasePool
    let logger: Logger

    public func record(_ facts: [CompatibilityFact]) async {
        guard !facts.isEmpty else { return }
        do {
            try await db.write { db in
                for fact in facts {
                    try db.execute(
                        sql: """
                            INSERT INTO compatibility (path, version, caddy_version, go_version, target, succeeded, failed, last_error, last_succeeded, last_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (path, version, caddy_version, go_version, target) DO UPDATE SET
                                succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed,
                                last_error = COALESCE(excluded.last_error, last_error), last_succeeded = excluded.last_succeeded,
                                last_at = MAX(last_at, excluded.last_at)
                            """,
                        arguments: [
                            fact.path, fact.version, fact.caddyVersion, fact.goVersion, fact.target, fact.succeeded ? 1 : 0, fact.succeeded ? 0 : 1,
                            fact.error, fact.succeeded ? 1 : 0, fact.at.timeIntervalSince1970,
                        ]
                    )
                }
            }
        } catch {
            logger.warning("cannot record what a build taught about its plugins", metadata: ["error": "\(error)"])
        }
    }

    public func rows(forPackage path: String) async throws(ProxError) -> [CompatibilityRow] {
        do {
            return try await db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM compatibility WHERE path = ?", arguments: [path]).map(Self.row)
            }
        } catch {
            throw ProxError(.internal, "cannot read the compatibility records: \(error)")
        }
    }

    public func lastBuilds() async throws(ProxError) -> [String: LastBuild] {
        do {
            return try await db.read { db in
                // The newest row of each package (ties: any one of them).
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT c.* FROM compatibility c
                        JOIN (SELECT path, MAX(last_at) AS newest FROM compatibility GROUP BY path) n
                        ON c.path = n.path AND c.last_at = n.newest
                        """
                )
                var builds: [String: LastBuild] = [:]
                for row in rows.map(Self.row) where builds[row.path] == nil { builds[row.path] = row.lastBuild }
                return builds
            }
        } catch {
            throw ProxError(.internal, "cannot read the compatibility records: \(error)")
        }
    }

    static func row(_ row: Row) -> CompatibilityRow {
        CompatibilityRow(
            path: row["path"], version: row["version"], caddyVersion: row["caddy_version"], goVersion: row["go_version"], target: row["target"],
            succeeded: row["succeeded"], failed: row["failed"], lastError: row["last_error"], lastSucceeded: row["last_succeeded"],
            lastAt: Date(timeIntervalSince1970: row["last_at"])
        )
    }
}
