import BuildCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Artifacts kept in a bucket (`--storage s3://…`) that several hubs share, with this hub's
/// ``ArtifactCache`` as a bounded read-through cache in front of it.
///
/// The bucket holds, under its prefix:
///
///     blobs/sha256/<digest>      each distinct binary, named by its SHA-256 (immutable)
///     keys/<cache key>.json      what a cache key names: digest, size, the resolved build
///     provenance/<cache key>.json  its signed provenance (a SignedProvenance)
///
/// - ``lookup(_:)``: a hit on the local disk is served as before. On a local miss the key's
///   document is read from the bucket; when it is there the binary is streamed into the
///   local cache (concurrent lookups of one key share one download), its SHA-256 and size
///   checked against the document, and only then served. A binary that does not match is
///   logged as corrupted and never served: the lookup is a miss, and the build that follows
///   stores good bytes over it. A bucket that cannot be reached is `.unavailable` (503) for
///   misses; hits on the local disk do not need it.
/// - ``commit(key:build:file:expectedDigest:)`` commits to the local cache first (so the
///   build is served at once), then uploads the binary (multipart when large, checksummed)
///   and then the key's document, so a hub that finds the document finds the whole binary.
///   A failed upload is logged and retried in the background until it succeeds or the
///   artifact leaves this hub's disk; meanwhile the artifact is served from this hub's
///   disk. The keys waiting for an upload are saved in the local index (document
///   `bucket-pending-uploads`), and ``resumeUploads()`` (proxhub calls it at start) takes
///   them up again after a restart.
/// - Quota and LRU apply to the local disk only: evicting there keeps the bucket's copy.
///   The bucket grows until its lifecycle rules expire objects (docs/operations.md).
public actor BucketArtifactStore: ArtifactStore, CacheAdministration {
    public nonisolated let local: ArtifactCache
    public nonisolated let bucket: any ObjectStore
    /// Signed provenance: the local index, and the bucket for other hubs.
    public nonisolated let attestations: BucketAttestationStore
    private let logger: Logger
    private var fetches: [CacheKey: Task<Result<ArtifactRecord?, ProxError>, Never>] = [:]
    /// Uploads that failed and are being retried, by cache key.
    public private(set) var pendingUploads: Set<CacheKey> = []
    /// Binaries read from the bucket that did not match their document (never served).
    public private(set) var corruptObjects = 0
    /// Keys whose binary in the bucket was found corrupted: not read again until this hub
    /// commits the key anew (the rebuild that follows the miss).
    private var corruptKeys: Set<CacheKey> = []
    /// Artifacts brought from the bucket into the local cache.
    public private(set) var fetchedFromBucket = 0
    /// Pauses between upload retries.
    let retryDelays: [Duration]

    /// The largest key or provenance document read from the bucket.
    static let documentLimit = 4 << 20

    public init(local: ArtifactCache, bucket: any ObjectStore, logger: Logger = Logger(label: "prox.bucket"), retryDelays: [Duration] = [.seconds(2), .seconds(10), .seconds(60), .seconds(300)]) {
        self.local = local
        self.bucket = bucket
        self.logger = logger
        self.retryDelays = retryDelays
        self.attestations = BucketAttestationStore(local: local.attestations, bucket: bucket, logger: logger)
    }

    public nonisolated var stagingDirectory: String { local.stagingDirectory }

    public static func blobName(_ digest: String) -> String { "blobs/sha256/\(digest)" }
    public static func keyName(_ key: CacheKey) -> String { "keys/\(key.hex).json" }
    public static func provenanceName(_ key: CacheKey) -> String { "provenance/\(key.hex).json" }

    /// What `keys/<cache key>.json` says.
    public struct KeyDocument: Codable, Sendable, Equatable {
        public var key: String
        public var sha256: String
        public var size: Int64
        public var build: ResolvedBuild
        public var createdAt: Date
    }

    // MARK: - ArtifactStore

    public func lookup(_ key: CacheKey) async throws(ProxError) -> ArtifactRecord? {
        if let hit = try await local.lookup(key) { return hit }
        if corruptKeys.contains(key) { return nil }
        if let running = fetches[key] { return try await running.value.get() }
        let fetch = Task { () async -> Result<ArtifactRecord?, ProxError> in
            do throws(ProxError) {
                return .success(try await self.fetch(key))
            } catch {
                return .failure(error)
            }
        }
        fetches[key] = fetch
        let result = await fetch.value
        fetches[key] = nil
        return try result.get()
    }

    public func commit(key: CacheKey, build: ResolvedBuild, file: String, expectedDigest: String?) async throws(ProxError) -> ArtifactRecord {
        let record = try await local.commit(key: key, build: build, file: file, expectedDigest: expectedDigest)
        corruptKeys.remove(key)
        do {
            try await upload(record)
        } catch {
            logger.error(
                "cannot store the artifact in the bucket: it is served from this hub's disk, and the upload is retried",
                metadata: ["key": "\(key)", "bucket": "\(bucket.location)", "error": "\(error.message)"])
            await retryUpload(of: record.key)
        }
        return record
    }

    public nonisolated func discardStaged(_ file: String) async { await local.discardStaged(file) }

    // MARK: - CacheAdministration (this hub's disk, and the bucket's key on removal)

    public func entries(limit: Int) async throws(ProxError) -> [ArtifactRecord] { try await local.entries(limit: limit) }
    public func setPinned(_ key: CacheKey, _ pinned: Bool) async throws(ProxError) -> Bool { try await local.setPinned(key, pinned) }
    public func prune(toSize size: Int64) async throws(ProxError) -> (entries: Int, bytes: Int64) { try await local.prune(toSize: size) }
    public func usage() async -> (size: Int64, quota: Int64) { await local.usage() }

    /// Removes the key here and from the bucket (its document and provenance; the binary
    /// stays for other keys that name it, until the bucket's lifecycle removes it).
    public func remove(_ key: CacheKey) async throws(ProxError) -> Bool {
        let here = try await local.remove(key)
        let there = try await bucket.getData(Self.keyName(key), limit: Self.documentLimit) != nil
        if there {
            try await bucket.delete(Self.keyName(key))
            try await bucket.delete(Self.provenanceName(key))
        }
        return here || there
    }

    // MARK: - Steps

    /// Brings `key`'s artifact from the bucket into the local cache; nil when the bucket has
    /// no such key, or its binary is missing or corrupted.
    private nonisolated func fetch(_ key: CacheKey) async throws(ProxError) -> ArtifactRecord? {
        // A lookup that missed just before another one's fetch finished finds it here.
        if let hit = try await local.lookup(key) { return hit }
        guard let bytes = try await bucket.getData(Self.keyName(key), limit: Self.documentLimit) else { return nil }
        guard let document = try? JSONDecoder.prox.decode(KeyDocument.self, from: Data(bytes)), document.key == key.hex,
            CacheKey(hex: document.sha256) != nil, document.size > 0
        else {
            logger.error("the bucket's document for this key cannot be read: treated as a miss", metadata: ["key": "\(key)", "bucket": "\(bucket.location)"])
            return nil
        }
        let staged = local.stagingDirectory + "/bucket-\(key.hex.prefix(16))-\(UUID().uuidString.prefix(8))"
        let received: (sha256: String, size: Int64)?
        do {
            received = try await bucket.getFile(Self.blobName(document.sha256), to: staged, limit: document.size)
        } catch where error.kind == .invalidArtifact {
            unlink(staged)
            await countCorruption(key, document: document, detail: error.message)
            return nil
        } catch {
            unlink(staged)
            throw error
        }
        guard let received else {
            unlink(staged)
            logger.warning("the bucket names this key but holds no binary for it: treated as a miss", metadata: ["key": "\(key)", "sha256": "\(document.sha256)"])
            return nil
        }
        guard received.sha256 == document.sha256, received.size == document.size else {
            unlink(staged)
            await countCorruption(key, document: document, detail: "its SHA-256 is \(received.sha256) (\(received.size) bytes)")
            return nil
        }
        _ = try await local.commit(key: key, build: document.build, file: staged, expectedDigest: document.sha256)
        if let signed = try? await attestations.fromBucket(key) {
            try? await local.attestations.saveAttestation(signed, for: key)
        }
        await countFetch()
        logger.info("artifact brought from the bucket", metadata: ["key": "\(key)", "sha256": "\(document.sha256)", "size": "\(document.size)"])
        return try await local.lookup(key)
    }

    private func countFetch() { fetchedFromBucket += 1 }

    private func countCorruption(_ key: CacheKey, document: KeyDocument, detail: String) {
        corruptObjects += 1
        corruptKeys.insert(key)
        logger.error(
            "corrupted object in the bucket: not served; the next build of this key stores good bytes over it",
            metadata: ["key": "\(key)", "object": "\(Self.blobName(document.sha256))", "expected": "\(document.sha256) (\(document.size) bytes)", "found": "\(detail)"])
    }

    /// The binary, then the key's document (so a document always names a whole binary).
    private nonisolated func upload(_ record: ArtifactRecord) async throws(ProxError) {
        try await bucket.putFile(Self.blobName(record.digest), path: record.path, sha256: record.digest, size: record.size)
        let document = KeyDocument(key: record.key.hex, sha256: record.digest, size: record.size, build: record.build, createdAt: record.createdAt)
        let bytes: Data
        do {
            bytes = try JSONEncoder.prox.encode(document)
        } catch {
            throw ProxError(.internal, "cannot encode the key's document: \(error)")
        }
        try await bucket.putData(Self.keyName(record.key), Array(bytes), contentType: "application/json")
    }

    /// The local index's document that lists the keys waiting for an upload.
    static let pendingDocument = "bucket-pending-uploads"

    /// Retries the upload of `key` in the background, after ``retryDelays`` (the last one
    /// repeated), until it succeeds or the artifact has left this hub's disk.
    private func retryUpload(of key: CacheKey) async {
        guard pendingUploads.insert(key).inserted else { return }
        await savePending()
        Task {
            var attempt = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: retryDelays[min(attempt, retryDelays.count - 1)])
                attempt += 1
                do throws(ProxError) {
                    // The local copy may have been evicted meanwhile: upload what is cached now.
                    guard let current = try await local.lookup(key) else {
                        logger.error("the artifact left this hub's disk before it could be stored in the bucket", metadata: ["key": "\(key)"])
                        break
                    }
                    try await upload(current)
                    logger.notice("artifact stored in the bucket after \(attempt) retries", metadata: ["key": "\(key)"])
                    break
                } catch {
                    logger.warning("upload retry failed", metadata: ["key": "\(key)", "attempt": "\(attempt)", "error": "\(error.message)"])
                }
            }
            await self.uploadSettled(key)
        }
    }

    private func uploadSettled(_ key: CacheKey) async {
        pendingUploads.remove(key)
        await savePending()
    }

    private func savePending() async {
        let list = pendingUploads.map(\.hex).sorted().joined(separator: "\n")
        do {
            try await local.documents.saveDocument(named: Self.pendingDocument, data: Array(list.utf8))
        } catch {
            logger.warning("cannot save the list of uploads to retry: a restart would forget them", metadata: ["error": "\(error.message)"])
        }
    }

    /// Takes up the uploads a previous run of this hub left waiting (its saved list); the
    /// number of keys taken up.
    @discardableResult
    public func resumeUploads() async -> Int {
        guard let saved = await local.documents.loadDocument(named: Self.pendingDocument) else { return 0 }
        let keys = String(decoding: saved.data, as: UTF8.self).split(separator: "\n").compactMap { CacheKey(hex: String($0)) }
        for key in keys where !pendingUploads.contains(key) { await retryUpload(of: key) }
        if !keys.isEmpty { logger.notice("taking up uploads to the bucket left from the last run", metadata: ["keys": "\(keys.count)"]) }
        return keys.count
    }

    /// Waits for the background upload retries (tests).
    public func waitForUploads() async {
        while !pendingUploads.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
