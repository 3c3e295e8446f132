import BuildCore
import Foundation
import GRDB
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ``ArtifactStore`` on disk: files named by their SHA-256 under `<root>/artifacts/`,
/// indexed in SQLite (`<root>/index.sqlite`, WAL mode, one writer).
///
/// Layout:
///
///     <root>/index.sqlite         key -> digest, size, target, versions, created, last access, hits, pinned
///     <root>/artifacts/ab/abcd... one file per distinct digest, read-only
///     <root>/staging/             files on their way in (removed at start-up)
///
/// A commit hashes and fsyncs the staged file, renames it into place, fsyncs the directory
/// and only then writes the index row: a crash at any point leaves either no row (the file
/// is an orphan, removed at the next start) or a complete file. At start-up, rows whose
/// file is missing or has the wrong size are dropped. The quota counts real file sizes;
/// when a commit would exceed it, least-recently-used unpinned entries are evicted until
/// the total is at or below the low-water mark.
public actor ArtifactCache: ArtifactStore, DocumentStore {
    public struct Configuration: Sendable {
        public var root: String
        /// Quota in bytes for artifact files.
        public var maxSize: Int64
        /// Eviction goes down to this fraction of `maxSize`.
        public var lowWaterFraction: Double

        public init(root: String, maxSize: Int64 = 10_000_000_000, lowWaterFraction: Double = 0.9) {
            self.root = root
            self.maxSize = maxSize
            self.lowWaterFraction = lowWaterFraction
        }
    }

    /// What start-up found and repaired.
    public struct Recovery: Sendable, Equatable {
        public var rowsDropped = 0
        public var orphanFilesRemoved = 0
        public var stagingFilesRemoved = 0
    }

    public let configuration: Configuration
    public nonisolated let stagingDirectory: String
    public nonisolated let artifactsDirectory: String
    public private(set) var totalSize: Int64 = 0
    public private(set) var recovery = Recovery()
    private let db: DatabasePool
    private let logger: Logger
    private var evictions = 0

    public init(configuration: Configuration, logger: Logger = Logger(label: "prox.cache")) async throws(ProxError) {
        self.configuration = configuration
        self.logger = logger
        self.stagingDirectory = configuration.root + "/staging"
        self.artifactsDirectory = configuration.root + "/artifacts"
        do {
            for dir in [configuration.root, stagingDirectory, artifactsDirectory] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            var config = GRDB.Configuration()
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            config.busyMode = .timeout(10)
            db = try DatabasePool(path: configuration.root + "/index.sqlite", configuration: config)
            try Self.migrator.migrate(db)
        } catch {
            throw ProxError(.internal, "cannot open the cache index in \(configuration.root): \(error)")
        }
        try await recover()
        if totalSize > configuration.maxSize { try await evict(toFit: 0) }  // the quota was lowered
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
        return migrator
    }

    // MARK: - ArtifactStore

    public func lookup(_ key: CacheKey) async throws(ProxError) -> ArtifactRecord? {
        let now = Date()
        let found: ArtifactRecord?
        do {
            found = try await db.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM artifact WHERE key = ?", arguments: [key.hex]).flatMap(Self.record(from:))
            }
        } catch {
            throw ProxError(.internal, "cache index lookup failed: \(error)")
        }
        guard var record = found else { return nil }
        record.path = path(forDigest: record.digest)
        guard Self.fileSize(record.path) == record.size else {
            logger.warning("cache entry's file is missing or has the wrong size; dropping it", metadata: ["key": "\(key)"])
            try await drop(keys: [key.hex])
            return nil
        }
        do {
            try await db.write { db in
                try db.execute(sql: "UPDATE artifact SET last_access = ?, hits = hits + 1 WHERE key = ?", arguments: [now.timeIntervalSince1970, key.hex])
            }
        } catch {
            throw ProxError(.internal, "cache index update failed: \(error)")
        }
        record.lastAccess = now
        record.hits += 1
        return record
    }

    public func commit(key: CacheKey, build: ResolvedBuild, file: String, expectedDigest: String?) async throws(ProxError) -> ArtifactRecord {
        var keepFile = false
        defer { if !keepFile { unlink(file) } }
        let (digest, size) = try await FileDigest.sha256(ofFileAt: file, sync: true)
        if let expectedDigest, expectedDigest.lowercased() != digest {
            throw ProxError(.invalidArtifact, "the artifact's SHA-256 is \(digest), not the declared \(expectedDigest): nothing was cached")
        }
        guard size > 0 else { throw ProxError(.invalidArtifact, "the artifact is empty: nothing was cached") }
        if let existing = try await lookup(key) { return existing }
        guard size <= configuration.maxSize else {
            throw ProxError(
                .insufficientStorage,
                "the artifact (\(size) bytes) is larger than the whole cache quota (\(configuration.maxSize) bytes, --cache-max-size)"
            )
        }
        let target = path(forDigest: digest)
        if totalSize + size > configuration.maxSize {
            try await evict(toFit: size)
        }
        // Checked after eviction (which may remove this very digest), with no suspension
        // point between the check and the rename, so concurrent commits count it once.
        if Self.fileSize(target) != size {
            let dir = (target as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw ProxError(.internal, "cannot create \(dir): \(error)")
            }
            chmod(file, 0o444)
            guard rename(file, target) == 0 else {
                throw ProxError(.internal, "cannot move the artifact into the cache: \(String(cString: strerror(errno)))")
            }
            keepFile = true
            Self.syncDirectory(dir)
            totalSize += size
        }
        let now = Date()
        let record = ArtifactRecord(key: key, digest: digest, size: size, path: target, build: build, createdAt: now, lastAccess: now)
        do {
            let buildJSON = String(decoding: try JSONEncoder.sorted.encode(build), as: UTF8.self)
            try await db.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO artifact (key, digest, size, target, caddy_version, go_version, build, created_at, last_access, hits, pinned)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)
                        ON CONFLICT (key) DO NOTHING
                        """,
                    arguments: [
                        key.hex, digest, size, build.platform.description, build.caddyVersion.description, build.settings.goVersion,
                        buildJSON, now.timeIntervalSince1970, now.timeIntervalSince1970,
                    ]
                )
            }
        } catch {
            throw ProxError(.internal, "cannot index the artifact: \(error)")
        }
        logger.info("cached artifact", metadata: ["key": "\(key)", "sha256": "\(digest)", "size": "\(size)"])
        return record
    }

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

    // MARK: - DocumentStore

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

    // MARK: - Administration

    /// Pins or unpins an entry; pinned entries are never evicted.
    public func setPinned(_ key: CacheKey, _ pinned: Bool) async throws(ProxError) {
        do {
            try await db.write { db in
                try db.execute(sql: "UPDATE artifact SET pinned = ? WHERE key = ?", arguments: [pinned, key.hex])
            }
        } catch {
            throw ProxError(.internal, "cannot update the cache index: \(error)")
        }
    }

    /// Every entry, most recently used first.
    public func entries(limit: Int = 1000) async throws(ProxError) -> [ArtifactRecord] {
        do {
            return try await db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM artifact ORDER BY last_access DESC LIMIT ?", arguments: [limit]).compactMap(Self.record(from:))
            }.map { var r = $0; r.path = path(forDigest: r.digest); return r }
        } catch {
            throw ProxError(.internal, "cannot read the cache index: \(error)")
        }
    }

    public var evictionCount: Int { evictions }

    public nonisolated func path(forDigest digest: String) -> String {
        "\(artifactsDirectory)/\(digest.prefix(2))/\(digest)"
    }

    // MARK: - Quota

    /// Evicts least-recently-used unpinned entries until `incoming` more bytes fit under
    /// the low-water mark.
    private func evict(toFit incoming: Int64) async throws(ProxError) {
        let lowWater = Int64(Double(configuration.maxSize) * configuration.lowWaterFraction)
        let goal = max(0, min(lowWater, configuration.maxSize - incoming))
        while totalSize > goal {
            let batch: [Row]
            do {
                batch = try await db.read { db in
                    try Row.fetchAll(db, sql: "SELECT key, digest, size FROM artifact WHERE pinned = 0 ORDER BY last_access ASC LIMIT 64")
                }
            } catch {
                throw ProxError(.internal, "cannot read the cache index: \(error)")
            }
            if batch.isEmpty { break }
            var victims: [String] = []
            var freed: Int64 = 0
            for row in batch where totalSize - freed > goal {
                victims.append(row["key"])
                freed += row["size"] as Int64
            }
            try await drop(keys: victims)
            evictions += victims.count
            logger.info("evicted least-recently-used artifacts", metadata: ["count": "\(victims.count)", "bytes": "\(freed)"])
        }
        if totalSize + incoming > configuration.maxSize {
            throw ProxError(
                .insufficientStorage,
                "the cache is full of pinned artifacts: \(incoming) more bytes do not fit in \(configuration.maxSize) (--cache-max-size)"
            )
        }
    }

    /// Removes rows, then each file no other row refers to.
    private func drop(keys: [String]) async throws(ProxError) {
        guard !keys.isEmpty else { return }
        let unreferenced: [(digest: String, size: Int64)]
        do {
            unreferenced = try await db.write { db in
                var digests: [String: Int64] = [:]
                for key in keys {
                    if let row = try Row.fetchOne(db, sql: "SELECT digest, size FROM artifact WHERE key = ?", arguments: [key]) {
                        digests[row["digest"]] = row["size"]
                    }
                    try db.execute(sql: "DELETE FROM artifact WHERE key = ?", arguments: [key])
                }
                return try digests.filter { digest, _ in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM artifact WHERE digest = ?", arguments: [digest]) == 0
                }.map { ($0.key, $0.value) }
            }
        } catch {
            throw ProxError(.internal, "cannot update the cache index: \(error)")
        }
        // The total counts what was committed (the row's size), whether or not the file is
        // still there or whole: a file lost behind our back must stop counting too.
        for (digest, size) in unreferenced {
            unlink(path(forDigest: digest))
            totalSize -= size
        }
    }

    // MARK: - Start-up

    /// Removes staging files and orphan artifact files; drops rows whose file is missing or
    /// has the wrong size; computes the total size.
    private func recover() async throws(ProxError) {
        var recovery = Recovery()
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: stagingDirectory)) ?? [] {
            try? fm.removeItem(atPath: stagingDirectory + "/" + name)
            recovery.stagingFilesRemoved += 1
        }
        let rows: [(key: String, digest: String, size: Int64)]
        do {
            rows = try await db.read { db in
                try Row.fetchAll(db, sql: "SELECT key, digest, size FROM artifact").map { ($0["key"], $0["digest"], $0["size"]) }
            }
        } catch {
            throw ProxError(.internal, "cannot read the cache index: \(error)")
        }
        var onDisk: [String: Int64] = [:]
        for shard in (try? fm.contentsOfDirectory(atPath: artifactsDirectory)) ?? [] {
            let dir = artifactsDirectory + "/" + shard
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                let path = dir + "/" + name
                if let size = Self.fileSize(path), name.count == 64, name.hasPrefix(shard) { onDisk[name] = size } else {
                    try? fm.removeItem(atPath: path)
                    recovery.orphanFilesRemoved += 1
                }
            }
        }
        var badKeys: [String] = []
        var referenced = Set<String>()
        for row in rows {
            if onDisk[row.digest] == row.size { referenced.insert(row.digest) } else { badKeys.append(row.key) }
        }
        if !badKeys.isEmpty {
            let bad = badKeys
            do {
                try await db.write { db in
                    for key in bad { try db.execute(sql: "DELETE FROM artifact WHERE key = ?", arguments: [key]) }
                }
            } catch {
                throw ProxError(.internal, "cannot repair the cache index: \(error)")
            }
            recovery.rowsDropped = bad.count
        }
        var total: Int64 = 0
        for (digest, size) in onDisk {
            if referenced.contains(digest) {
                total += size
            } else {
                unlink(path(forDigest: digest))
                recovery.orphanFilesRemoved += 1
            }
        }
        totalSize = total
        self.recovery = recovery
        if recovery != Recovery() {
            logger.warning(
                "cache repaired at start-up",
                metadata: ["rowsDropped": "\(recovery.rowsDropped)", "orphanFiles": "\(recovery.orphanFilesRemoved)", "stagingFiles": "\(recovery.stagingFilesRemoved)"]
            )
        }
    }

    // MARK: - Helpers

    private static func record(from row: Row) -> ArtifactRecord? {
        guard let key = CacheKey(hex: row["key"]),
            let build = try? JSONDecoder().decode(ResolvedBuild.self, from: Data((row["build"] as String).utf8))
        else { return nil }
        return ArtifactRecord(
            key: key, digest: row["digest"], size: row["size"], path: "", build: build,
            createdAt: Date(timeIntervalSince1970: row["created_at"]), lastAccess: Date(timeIntervalSince1970: row["last_access"]),
            hits: row["hits"], pinned: row["pinned"]
        )
    }

    static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
