import BuildCore
import Foundation
import GRDB
import Logging

/// The ``DownloadCounter`` in the cache's SQLite file: table `download` (per package path)
/// and `download_set` (per sorted package set, platform and UTC day).
public struct SQLiteDownloadCounter: DownloadCounter {
    let db: DatabasePool
    let logger: Logger

    public func recordDownload(packages: [String], platform: Platform) async {
        let set = packages.sorted().joined(separator: "\n")
        let day = Int(Date().timeIntervalSince1970 / 86_400)
        do {
            try await db.write { db in
                for path in packages {
                    try db.execute(
                        sql: "INSERT INTO download (path, count) VALUES (?, 1) ON CONFLICT (path) DO UPDATE SET count = count + 1",
                        arguments: [path]
                    )
                }
                try db.execute(
                    sql: """
                        INSERT INTO download_set (packages, os, arch, arm, day, count) VALUES (?, ?, ?, ?, ?, 1)
                        ON CONFLICT (packages, os, arch, arm, day) DO UPDATE SET count = count + 1
                        """,
                    arguments: [set, platform.os, platform.arch, platform.arm ?? 0, day]
                )
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

    public func popularSets(since: Date, limit: Int) async -> [PopularSet] {
        let day = Int(since.timeIntervalSince1970 / 86_400)
        let rows = (try? await db.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT packages, os, arch, arm, SUM(count) AS total FROM download_set WHERE day >= ?
                    GROUP BY packages, os, arch, arm ORDER BY total DESC, packages, os, arch, arm LIMIT ?
                    """,
                arguments: [day, limit])
        }) ?? []
        return rows.compactMap { row in
            let arm: Int = row["arm"]
            guard let platform = try? Platform(os: row["os"], arch: row["arch"], arm: arm == 0 ? nil : String(arm)) else { return nil }
            let packages: String = row["packages"]
            return PopularSet(packages: packages.isEmpty ? [] : packages.components(separatedBy: "\n"), platform: platform, downloads: row["total"])
        }
    }
}
