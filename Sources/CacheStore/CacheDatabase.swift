import BuildCore
import Foundation
import GRDB
import Logging

/// The cache's SQLite file (`<root>/index.sqlite`, WAL mode): the artifact index, download
/// counts, saved documents and signed provenance, each owned by its own type, share it.
enum CacheDatabase {
    static func open(path: String) throws -> DatabasePool {
        var config = GRDB.Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Checkpoint every 20,000 pages (80 MB of WAL) instead of 1,000: a large
            // eviction dirties many pages, and each checkpoint fsyncs.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 20000")
        }
        config.busyMode = .timeout(10)
        let db = try DatabasePool(path: path, configuration: config)
        try migrator.migrate(db)
        return db
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE artifact (
                        key TEXT PRIMARY KEY NOT NULL,
                        digest TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        target TEXT NOT NULL,
                        caddy_version TEXT NOT NULL,
                        go_version TEXT NOT NULL,
                        build TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        last_access REAL NOT NULL,
                        hits INTEGER NOT NULL DEFAULT 0,
                        pinned INTEGER NOT NULL DEFAULT 0
                    ) WITHOUT ROWID;
                    CREATE INDEX artifact_lru ON artifact (pinned, last_access);
                    CREATE INDEX artifact_digest ON artifact (digest);
                    CREATE TABLE download (path TEXT PRIMARY KEY NOT NULL, count INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE TABLE document (name TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL, fetched_at REAL NOT NULL);
                    """
            )
        }
        // Start-up reads each distinct (digest, size) and eviction asks whether a digest is
        // still referenced: both from this index alone, without reading the rows.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    DROP INDEX artifact_digest;
                    CREATE INDEX artifact_digest_size ON artifact (digest, size);
                    """
            )
        }
        // Signed provenance, one per artifact, deleted with it.
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE attestation (
                        key TEXT PRIMARY KEY NOT NULL REFERENCES artifact (key) ON DELETE CASCADE,
                        data BLOB NOT NULL,
                        signed_at REAL NOT NULL
                    ) WITHOUT ROWID;
                    """
            )
        }
        // Downloads per package set, platform and day: what cache warming rebuilds.
        migrator.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    CREATE TABLE download_set (
                        packages TEXT NOT NULL,
                        os TEXT NOT NULL,
                        arch TEXT NOT NULL,
                        arm INTEGER NOT NULL,
                        day INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        PRIMARY KEY (packages, os, arch, arm, day)
                    ) WITHOUT ROWID;
                    CREATE INDEX download_set_day ON download_set (day);
                    """
            )
        }
        // What finished builds taught about plugin versions with Caddy versions (issue 15).
        migrator.registerMigration("v5") { db in
            try db.execute(
                sql: """
                    CREATE TABLE compatibility (
                        path TEXT NOT NULL,
                        version TEXT NOT NULL,
                        caddy_version TEXT NOT NULL,
                        go_version TEXT NOT NULL,
                        target TEXT NOT NULL,
                        succeeded INTEGER NOT NULL,
                        failed INTEGER NOT NULL,
                        last_error TEXT,
                        last_succeeded INTEGER NOT NULL,
                        last_at REAL NOT NULL,
                        PRIMARY KEY (path, version, caddy_version, go_version, target)
                    ) WITHOUT ROWID;
                    """
            )
        }
        return migrator
    }
}
