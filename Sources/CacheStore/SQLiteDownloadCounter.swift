import BuildCore
import Foundation
import GRDB
import Logging

/// The ``DownloadCounter`` in the cache's SQLite file (table `download`).
public struct SQLiteDownloadCounter: DownloadCounter {
    let db: DatabasePool
    let logger: Logger

    public func recordDownload(packages: [String]) async {
        guard !packages.isEmpty else { return }
        do {
            try await db.write { db in
                for path in packages {
                    try db.execute(
                        sql: "INSERT INTO download (path, count) VALUES (?, 1) ON CONFLICT (path) DO UPDATE SET count = count + 1",
                        arguments: [path]
                    )
                }
            }
        } catch {
            logger.warning("cannot record downloads: \(error)")
        }
    }

    public func downloadCounts() async -> [String: Int] {
        (try? await db.read { db in
            try Row.fetchAll(db, sql: "SELECT path, count FROM download").reduce(into: [String: Int]()) { $0[$1["path"]] = $1["count"] }
        }) ?? [:]
    }
}
