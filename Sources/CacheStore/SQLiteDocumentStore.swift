import BuildCore
import Foundation
import GRDB

/// The ``DocumentStore`` in the cache's SQLite file (table `document`).
public struct SQLiteDocumentStore: DocumentStore {
    let db: DatabasePool

    public func loadDocument(named name: String) async -> (data: [UInt8], fetchedAt: Date)? {
        let row = try? await db.read { db in try Row.fetchOne(db, sql: "SELECT data, fetched_at FROM document WHERE name = ?", arguments: [name]) }
        guard let row = row.flatMap({ $0 }) else { return nil }
        let data: Data = row["data"]
        return (Array(data), Date(timeIntervalSince1970: row["fetched_at"]))
    }

    public func saveDocument(named name: String, data: [UInt8]) async throws(ProxError) {
        do {
            try await db.write { db in
                try db.execute(
                    sql: "INSERT INTO document (name, data, fetched_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET data = excluded.data, fetched_at = excluded.fetched_at",
                    arguments: [name, Data(data), Date().timeIntervalSince1970]
                )
            }
        } catch {
            throw ProxError(.internal, "cannot store document \(name): \(error)")
        }
    }
}
