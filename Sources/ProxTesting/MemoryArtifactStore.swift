import BuildCore
import Crypto
import Foundation

/// An ``ArtifactStore``, ``DocumentStore``, ``DownloadCounter``, ``AttestationStore`` and
/// ``CacheAdministration`` with its index in memory and its files in a directory of its own
/// (the HTTP layer serves artifacts from files), without quota.
/// It keeps the store's contract: a commit hashes the staged file, checks the expected
/// digest and moves the file in; a second commit of a key returns the first.
public actor MemoryArtifactStore: ArtifactStore, DocumentStore, DownloadCounter, AttestationStore, CacheAdministration {
    public nonisolated let root: String
    public nonisolated let stagingDirectory: String
    private var records: [CacheKey: ArtifactRecord] = [:]
    private var downloads: [String: Int] = [:]
    private var documents: [String: (data: [UInt8], fetchedAt: Date)] = [:]
    private var attestations: [CacheKey: SignedProvenance] = [:]
    public private(set) var commits = 0

    /// Files go under `root` (created), which the caller removes.
    public init(root: String) throws {
        self.root = root
        self.stagingDirectory = root + "/staging"
        for directory in [stagingDirectory, root + "/artifacts"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    public func lookup(_ key: CacheKey) async throws(ProxError) -> ArtifactRecord? {
        guard var record = records[key] else { return nil }
        record.hits += 1
        record.lastAccess = Date()
        records[key] = record
        return record
    }

    public func commit(key: CacheKey, build: ResolvedBuild, file: String, expectedDigest: String?) async throws(ProxError) -> ArtifactRecord {
        defer { try? FileManager.default.removeItem(atPath: file) }
        if let existing = records[key] { return existing }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ProxError(.internal, "cannot read the staged file \(file)")
        }
        let digest = SHA256.hash(data: data).hexString
        if let expectedDigest, expectedDigest != digest {
            throw ProxError(.invalidArtifact, "the artifact's SHA-256 is \(digest), not \(expectedDigest): nothing was cached")
        }
        let path = root + "/artifacts/" + digest
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw ProxError(.internal, "cannot write \(path)")
        }
        let now = Date()
        let record = ArtifactRecord(key: key, digest: digest, size: Int64(data.count), path: path, build: build, createdAt: now, lastAccess: now)
        records[key] = record
        commits += 1
        return record
    }

    public nonisolated func discardStaged(_ file: String) async {
        guard file.hasPrefix(stagingDirectory + "/") else { return }
        try? FileManager.default.removeItem(atPath: file)
    }

    public func recordDownload(packages: [String], platform: Platform) async {
        for path in packages { downloads[path, default: 0] += 1 }
        let day = Int(Date().timeIntervalSince1970 / 86_400)
        sets[SetKey(packages: packages.sorted(), platform: platform, day: day), default: 0] += 1
    }

    /// Summed over the UTC days from `since`'s, as the SQLite and Redis counters do.
    public func popularSets(since: Date, limit: Int) async -> [PopularSet] {
        let first = Int(since.timeIntervalSince1970 / 86_400)
        var totals: [PopularSet: Int] = [:]
        for (key, count) in sets where key.day >= first {
            totals[PopularSet(packages: key.packages, platform: key.platform, downloads: 0), default: 0] += count
        }
        return totals.map { PopularSet(packages: $0.key.packages, platform: $0.key.platform, downloads: $0.value) }
            .sorted { ($0.downloads, $1.packages.joined()) > ($1.downloads, $0.packages.joined()) }
            .prefix(limit).map { $0 }
    }

    private struct SetKey: Hashable {
        let packages: [String]
        let platform: Platform
        let day: Int
    }
    private var sets: [SetKey: Int] = [:]

    public func downloadCounts() async -> [String: Int] { downloads }

    public func loadDocument(named name: String) async -> (data: [UInt8], fetchedAt: Date)? { documents[name] }

    public func saveDocument(named name: String, data: [UInt8]) async throws(ProxError) {
        documents[name] = (data, Date())
    }

    public func attestation(for key: CacheKey) async throws(ProxError) -> SignedProvenance? { attestations[key] }

    public func saveAttestation(_ attestation: SignedProvenance, for key: CacheKey) async throws(ProxError) {
        guard records[key] != nil else { throw ProxError(.notFound, "no artifact is cached under \(key.hex) any more (evicted)") }
        attestations[key] = attestation
    }

    public func entries(limit: Int) async throws(ProxError) -> [ArtifactRecord] {
        Array(records.values.sorted { $0.lastAccess > $1.lastAccess }.prefix(limit))
    }

    public func setPinned(_ key: CacheKey, _ pinned: Bool) async throws(ProxError) -> Bool {
        guard records[key] != nil else { return false }
        records[key]!.pinned = pinned
        return true
    }

    public func remove(_ key: CacheKey) async throws(ProxError) -> Bool {
        guard let record = records.removeValue(forKey: key) else { return false }
        attestations[key] = nil
        if !records.values.contains(where: { $0.digest == record.digest }) { try? FileManager.default.removeItem(atPath: record.path) }
        return true
    }

    public func prune(toSize size: Int64) async throws(ProxError) -> (entries: Int, bytes: Int64) {
        var removed = (entries: 0, bytes: Int64(0))
        for record in records.values.filter({ !$0.pinned }).sorted(by: { $0.lastAccess < $1.lastAccess }) where await usage().size > size {
            _ = try await remove(record.key)
            removed.entries += 1
            removed.bytes += record.size
        }
        return removed
    }

    /// Bytes held, and no quota (`Int64.max`).
    public func usage() async -> (size: Int64, quota: Int64) {
        (records.values.reduce(0) { $0 + $1.size }, .max)
    }

    /// Every record, for assertions.
    public var all: [ArtifactRecord] { Array(records.values) }
}
