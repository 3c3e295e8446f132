import BuildCore
import FileIO
import Foundation
import GRDB
import Logging
import ServiceLifecycle

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
///
/// As a `Service` it waits for graceful shutdown, then writes the hits not yet in the
/// index (``flushAccess()``): put it first in the service group, so it stops last.
public actor ArtifactCache: ArtifactStore, CacheAdministration, Service {
    public struct Configuration: Sendable {
        public var root: String
        /// Quota in bytes for artifact files.
        public var maxSize: Int64
        /// Eviction goes down to this fraction of `maxSize`.
        public var lowWaterFraction: Double
        /// Hits (last access, hit count) are written to the index at most this long after
        /// the first one not yet written (and before every eviction, and on ``flushAccess()``).
        public var hitWriteInterval: Duration

        public init(root: String, maxSize: Int64 = 10_000_000_000, lowWaterFraction: Double = 0.9, hitWriteInterval: Duration = .seconds(1)) {
            self.root = root
            self.maxSize = maxSize
            self.lowWaterFraction = lowWaterFraction
            self.hitWriteInterval = hitWriteInterval
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
    /// Downloads per package, in the same database.
    public nonisolated let downloads: SQLiteDownloadCounter
    /// What finished builds taught about plugin versions (standalone mode's store).
    public nonisolated let compatibility: SQLiteCompatibilityStore
    /// The last good copies of upstream documents, in the same database.
    public nonisolated let documents: SQLiteDocumentStore
    /// Each artifact's signed provenance, in the same database, removed with the artifact.
    public nonisolated let attestations: SQLiteAttestationStore
    private let logger: Logger
    private var evictions = 0
    /// Hits not yet written to the index: key -> (last access, hits to add). Written in one
    /// transaction at most `configuration.hitWriteInterval` after the first of them, and always before
    /// anything reads the LRU order (eviction, ``entries(limit:)``).
    private var pendingAccess: [String: (lastAccess: Double, hits: Int)] = [:]
    private var accessFlushScheduled = false
    /// Rows recently looked up, decoded, by key (at most `recordCacheLimit`).
    private var records: [String: ArtifactRecord] = [:]
    /// Counts calls to ``drop(keys:)``: a row read before a drop (the actor is reentrant at
    /// every `await`) is not put in `records`, where it would outlive its deletion.
    private var drops = 0
    static let recordCacheLimit = 4096

    public init(configuration: Configuration, logger: Logger = Logger(label: "prox.cache")) async throws(ProxError) {
        self.configuration = configuration
        self.logger = logger
        self.stagingDirectory = configuration.root + "/staging"
        self.artifactsDirectory = configuration.root + "/artifacts"
        do {
            for dir in [configuration.root, stagingDirectory, artifactsDirectory] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            }
            db = try CacheDatabase.open(path: configuration.root + "/index.sqlite")
        } catch {
            throw ProxError(.internal, "cannot open the cache index in \(configuration.root): \(error)")
        }
        downloads = SQLiteDownloadCounter(db: db, logger: logger)
        compatibility = SQLiteCompatibilityStore(db: db, logger: logger)
        documents = SQLiteDocumentStore(db: db)
        attestations = SQLiteAttestationStore(db: db)
        try await recover()
        if totalSize > configuration.maxSize { try await evict(toFit: 0) }  // the quota was lowered
    }

    // MARK: - ArtifactStore

    public func lookup(_ key: CacheKey) async throws(ProxError) -> ArtifactRecord? {
        let now = Date()
        // Recently used rows are kept decoded in memory (every change to the index goes
        // through this actor, so they stay exact): a hit needs no trip to SQLite's threads.
        let cached = records[key.hex]
        let dropsBefore = drops
        var found = cached
        if found == nil {
            do {
                found = try await db.read { db in
                    try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM artifact WHERE key = ?"), arguments: [key.hex]).flatMap(Self.record(from:))
                }
            } catch {
                throw ProxError(.internal, "cache index lookup failed: \(error)")
            }
        }
        guard var record = found else { return nil }
        record.path = path(forDigest: record.digest)
        guard ArtifactFiles.fileSize(record.path) == record.size else {
            logger.warning("cache entry's file is missing or has the wrong size; dropping it", metadata: ["key": "\(key)"])
            try await drop(keys: [key.hex])
            return nil
        }
        // The hit is recorded in memory and written with others in one transaction: a write
        // transaction per download would bound the request rate (and its latency) by the
        // index's single writer. A crash loses at most the last interval of access times.
        let unwritten = (pendingAccess[key.hex]?.hits ?? 0) + 1
        pendingAccess[key.hex] = (now.timeIntervalSince1970, unwritten)
        if !accessFlushScheduled {
            accessFlushScheduled = true
            let interval = configuration.hitWriteInterval
            Task { [weak self] in
                try? await Task.sleep(for: interval)
                await self?.flushAccess()
            }
        }
        record.lastAccess = now
        record.hits += cached == nil ? unwritten : 1  // a cached record counts the hits before this one
        if drops == dropsBefore {
            if records.count >= Self.recordCacheLimit { records.removeAll(keepingCapacity: true) }
            records[key.hex] = record
        }
        return record
    }

    public nonisolated func discardStaged(_ file: String) async {
        guard file.hasPrefix(stagingDirectory + "/") else { return }
        try? FileManager.default.removeItem(atPath: file)
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
        if ArtifactFiles.fileSize(target) != size {
            let dir = (target as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw ProxError.fileSystem(error, while: "making a directory in the cache")
            }
            chmod(file, 0o444)
            guard rename(file, target) == 0 else {
                throw ProxError.posix(errno, while: "moving the artifact into the cache")
            }
            keepFile = true
            ArtifactFiles.syncDirectory(dir)
            totalSize += size
        }
        let now = Date()
        let record = ArtifactRecord(key: key, digest: digest, size: size, path: target, build: build, createdAt: now, lastAccess: now)
        do {
            let buildJSON = String(decoding: try JSONEncoder.prox.encode(build), as: UTF8.self)
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
        } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
            throw ProxError.diskFull(while: "indexing the artifact")
        } catch {
            throw ProxError(.internal, "cannot index the artifact: \(error)")
        }
        logger.info("cached artifact", metadata: ["key": "\(key)", "sha256": "\(digest)", "size": "\(size)"])
        return record
    }

    public nonisolated func run() async throws {
        try? await gracefulShutdown()
        await flushAccess()
    }

    /// Writes the pending hits (last access, hit counts) to the index. Runs by itself a
    /// second after a hit; call it before the process exits so none are lost.
    public func flushAccess() async {
        accessFlushScheduled = false
        guard !pendingAccess.isEmpty else { return }
        let batch = pendingAccess
        pendingAccess = [:]
        do {
            try await db.write { db in
                let statement = try db.makeStatement(sql: "UPDATE artifact SET last_access = max(last_access, ?), hits = hits + ? WHERE key = ?")
                for (key, access) in batch {
                    try statement.execute(arguments: [access.lastAccess, access.hits, key])
                }
            }
        } catch {
            logger.warning("cannot record cache hits: \(error)")
        }
    }

    // MARK: - Administration

    /// Pins or unpins an entry; pinned entries are never evicted. False when `key` is not cached.
    @discardableResult
    public func setPinned(_ key: CacheKey, _ pinned: Bool) async throws(ProxError) -> Bool {
        do {
            let changed = try await db.write { db in
                try db.execute(sql: "UPDATE artifact SET pinned = ? WHERE key = ?", arguments: [pinned, key.hex])
                return db.changesCount
            }
            records[key.hex]?.pinned = pinned
            return changed > 0
        } catch {
            throw ProxError(.internal, "cannot update the cache index: \(error)")
        }
    }

    /// Removes an entry, pinned or not (its file too, unless another key shares it).
    /// False when `key` is not cached.
    public func remove(_ key: CacheKey) async throws(ProxError) -> Bool {
        guard try await lookupRow(key) else { return false }
        try await drop(keys: [key.hex])
        return true
    }

    /// Evicts least-recently-used unpinned entries until at most `size` bytes are cached.
    public func prune(toSize size: Int64) async throws(ProxError) -> (entries: Int, bytes: Int64) {
        let before = (evictions, totalSize)
        try await evictLeastRecentlyUsed(goal: max(0, size))
        return (evictions - before.0, before.1 - totalSize)
    }

    public func usage() async -> (size: Int64, quota: Int64) { (totalSize, configuration.maxSize) }

    private func lookupRow(_ key: CacheKey) async throws(ProxError) -> Bool {
        do {
            return try await db.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM artifact WHERE key = ?)", arguments: [key.hex]) ?? false }
        } catch {
            throw ProxError(.internal, "cannot read the cache index: \(error)")
        }
    }

    /// Every entry, most recently used first.
    public func entries(limit: Int = 1000) async throws(ProxError) -> [ArtifactRecord] {
        await flushAccess()
        do {
            return try await db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM artifact ORDER BY last_access DESC LIMIT ?", arguments: [limit]).compactMap(Self.record(from:))
            }.map { var r = $0; r.path = path(forDigest: r.digest); return r }
        } catch {
            throw ProxError(.internal, "cannot read the cache index: \(error)")
        }
    }

    public var evictionCount: Int { evictions }

    /// How many keys the index holds.
    public func entryCount() async throws(ProxError) -> Int {
        do {
            return try await db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM artifact") ?? 0 }
        } catch {
            throw ProxError(.internal, "cannot read the cache index: \(error)")
        }
    }

    public nonisolated func path(forDigest digest: String) -> String {
        "\(artifactsDirectory)/\(digest.prefix(2))/\(digest)"
    }

    // MARK: - Quota

    /// Evicts least-recently-used unpinned entries until `incoming` more bytes fit under
    /// the low-water mark.
    ///
    /// Several keys may share one file, and only a file no row refers to any more frees
    /// space: so the rows to drop are planned first, in one read (each file's reference
    /// count, then rows in LRU order until enough files would be freed), and dropped in
    /// large transactions after. Dropping still checks each file's references itself.
    private func evict(toFit incoming: Int64) async throws(ProxError) {
        let lowWater = Int64(Double(configuration.maxSize) * configuration.lowWaterFraction)
        try await evictLeastRecentlyUsed(goal: max(0, min(lowWater, configuration.maxSize - incoming)))
        if totalSize + incoming > configuration.maxSize {
            throw ProxError(
                .insufficientStorage,
                "the cache is full of pinned artifacts: \(incoming) more bytes do not fit in \(configuration.maxSize) (--cache-max-size)"
            )
        }
    }

    private func evictLeastRecentlyUsed(goal: Int64) async throws(ProxError) {
        await flushAccess()  // the LRU order must include the latest hits
        while totalSize > goal {
            let victims: [String]
            do {
                victims = try await db.read { [totalSize] db in
                    var references: [String: Int] = [:]
                    let counts = try Row.fetchCursor(db, sql: "SELECT digest, COUNT(*) FROM artifact GROUP BY digest")
                    while let row = try counts.next() {
                        let digest: String = row[0]
                        references[digest] = row[1]
                    }
                    var keys: [String] = []
                    var remaining = totalSize
                    let rows = try Row.fetchCursor(db, sql: "SELECT key, digest, size FROM artifact WHERE pinned = 0 ORDER BY last_access ASC")
                    while remaining > goal, let row = try rows.next() {
                        let digest: String = row["digest"]
                        keys.append(row["key"])
                        let left = references[digest, default: 1] - 1
                        references[digest] = left
                        if left == 0 { remaining -= row["size"] as Int64 }
                    }
                    return keys
                }
            } catch {
                throw ProxError(.internal, "cannot read the cache index: \(error)")
            }
            if victims.isEmpty { break }
            var freedBefore = totalSize
            for start in stride(from: 0, to: victims.count, by: 5000) {
                let chunk = Array(victims[start..<min(start + 5000, victims.count)])
                try await drop(keys: chunk)
                evictions += chunk.count
                logger.info("evicted least-recently-used artifacts", metadata: ["count": "\(chunk.count)", "bytes": "\(freedBefore - totalSize)"])
                freedBefore = totalSize
            }
        }
    }

    /// Removes rows, then each file no other row refers to.
    private func drop(keys: [String]) async throws(ProxError) {
        guard !keys.isEmpty else { return }
        drops += 1
        for key in keys { records[key] = nil }
        let unreferenced: [(digest: String, size: Int64)]
        do {
            unreferenced = try await db.write { db in
                var digests: [String: Int64] = [:]
                let delete = try db.cachedStatement(sql: "DELETE FROM artifact WHERE key = ? RETURNING digest, size")
                for key in keys {
                    if let row = try Row.fetchOne(delete, arguments: [key]) {
                        digests[row["digest"]] = row["size"]
                    }
                }
                let referenced = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM artifact WHERE digest = ?)")
                return try digests.filter { digest, _ in
                    try Bool.fetchOne(referenced, arguments: [digest]) == false
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
        // Each distinct (digest, size) the index refers to, from the (digest, size) index
        // alone: start-up time grows with the number of files, not of rows.
        let indexed: [(digest: String, size: Int64)]
        do {
            indexed = try await db.read { db in
                try Row.fetchAll(db, sql: "SELECT DISTINCT digest, size FROM artifact").map { ($0["digest"], $0["size"]) }
            }
        } catch {
            throw ProxError(.internal, "cannot read the cache index: \(error)")
        }
        var onDisk: [String: Int64] = [:]
        for shard in (try? fm.contentsOfDirectory(atPath: artifactsDirectory)) ?? [] {
            let dir = artifactsDirectory + "/" + shard
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] {
                let path = dir + "/" + name
                if let size = ArtifactFiles.fileSize(path), name.count == 64, name.hasPrefix(shard) { onDisk[name] = size } else {
                    try? fm.removeItem(atPath: path)
                    recovery.orphanFilesRemoved += 1
                }
            }
        }
        var bad: [(digest: String, size: Int64)] = []
        var referenced = Set<String>()
        for entry in indexed {
            if onDisk[entry.digest] == entry.size { referenced.insert(entry.digest) } else { bad.append(entry) }
        }
        if !bad.isEmpty {
            let badEntries = bad
            do {
                recovery.rowsDropped = try await db.write { db in
                    var dropped = 0
                    for entry in badEntries {
                        try db.execute(sql: "DELETE FROM artifact WHERE digest = ? AND size = ?", arguments: [entry.digest, entry.size])
                        dropped += db.changesCount
                    }
                    return dropped
                }
            } catch {
                throw ProxError(.internal, "cannot repair the cache index: \(error)")
            }
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
            let build = try? JSONDecoder.prox.decode(ResolvedBuild.self, from: Data((row["build"] as String).utf8))
        else { return nil }
        return ArtifactRecord(
            key: key, digest: row["digest"], size: row["size"], path: "", build: build,
            createdAt: Date(timeIntervalSince1970: row["created_at"]), lastAccess: Date(timeIntervalSince1970: row["last_access"]),
            hits: row["hits"], pinned: row["pinned"]
        )
    }


}
