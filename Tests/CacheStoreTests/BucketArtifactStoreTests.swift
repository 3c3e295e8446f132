import BuildCore
import CacheStore
import Foundation
import ProxTestSupport
import ProxTesting
import Testing

/// The bucket-backed store's logic on a real disk cache (SQLite, files) and an in-memory
/// bucket: what goes up, what comes back, what is refused. SystemTests' SharedBucketTests
/// run the same paths against a real S3 server with two hubs.
@Suite struct BucketArtifactStoreTests {
    static func open(_ bucket: MemoryObjectStore, maxSize: Int64 = 10 << 20, retryDelays: [Duration] = [.milliseconds(10)]) async throws -> (BucketArtifactStore, String) {
        let root = Fixture.temporaryDirectory("prox-bucket-store")
        let cache = try await CacheFixture.open(root, maxSize: maxSize)
        return (BucketArtifactStore(local: cache, bucket: bucket, retryDelays: retryDelays), root)
    }

    static func commit(_ build: ResolvedBuild, seed: UInt8, size: Int = 4096, to store: BucketArtifactStore) async throws -> ArtifactRecord {
        let staged = try CacheFixture.stage(CacheFixture.bytes(size: size, seed: seed), in: store.local)
        return try await store.commit(key: build.cacheKey, build: build, file: staged, expectedDigest: nil)
    }

    @Test func aCommitGoesUpAndAnotherHubWithAnEmptyDiskServesIt() async throws {
        let bucket = MemoryObjectStore()
        let (a, rootA) = try await Self.open(bucket)
        let (b, rootB) = try await Self.open(bucket)
        defer { for r in [rootA, rootB] { try? FileManager.default.removeItem(atPath: r) } }
        let build = try CacheFixture.build(1)
        let committed = try await Self.commit(build, seed: 1, to: a)
        #expect(bucket.names == [
            "blobs/sha256/\(committed.digest)", "keys/\(build.cacheKey.hex).json",
        ])
        let signed = try AttestationStoreTests.signed("from hub a")
        try await a.attestations.saveAttestation(signed, for: build.cacheKey)
        #expect(bucket["provenance/\(build.cacheKey.hex).json"] != nil)

        let found = try #require(try await b.lookup(build.cacheKey))
        #expect(found.digest == committed.digest && found.size == committed.size && found.build == build)
        #expect(found.path.hasPrefix(rootB + "/artifacts/"))
        #expect(CacheFixture.contents(found.path) == CacheFixture.bytes(size: 4096, seed: 1))
        #expect(await b.fetchedFromBucket == 1)
        // The provenance hub a signed came along; hub b signs nothing again.
        #expect(try await b.local.attestations.attestation(for: build.cacheKey) == signed)
        // Now a local hit: the bucket is not asked again.
        let gets = bucket.calls("get")
        #expect(try await b.lookup(build.cacheKey)?.digest == committed.digest)
        #expect(bucket.calls("get") == gets)
        // A key nobody built is a miss on both.
        #expect(try await b.lookup(try CacheFixture.build(2).cacheKey) == nil)
    }

    @Test func anEvictedArtifactIsBroughtBackFromTheBucket() async throws {
        let bucket = MemoryObjectStore()
        let (store, root) = try await Self.open(bucket)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let build = try CacheFixture.build(3)
        let committed = try await Self.commit(build, seed: 3, to: store)
        #expect(try await store.prune(toSize: 0).entries == 1)
        #expect(try await store.local.lookup(build.cacheKey) == nil, "gone from the disk")
        let back = try #require(try await store.lookup(build.cacheKey))
        #expect(back.digest == committed.digest)
        #expect(await store.usage().size == 4096)
    }

    @Test func concurrentMissesShareOneDownload() async throws {
        let bucket = MemoryObjectStore()
        let (a, rootA) = try await Self.open(bucket)
        let (b, rootB) = try await Self.open(bucket)
        defer { for r in [rootA, rootB] { try? FileManager.default.removeItem(atPath: r) } }
        let build = try CacheFixture.build(4)
        let committed = try await Self.commit(build, seed: 4, size: 1 << 20, to: a)
        let before = bucket.calls("get")
        let digests = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<8 { group.addTask { try await b.lookup(build.cacheKey)?.digest } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(digests == Array(repeating: committed.digest, count: 8))
        #expect(bucket.calls("get") - before <= 3, "one key document, one binary, one provenance read")
    }

    @Test func aCorruptedObjectIsNeverServedAndARebuildRepairsIt() async throws {
        let bucket = MemoryObjectStore()
        let (a, rootA) = try await Self.open(bucket)
        let (b, rootB) = try await Self.open(bucket)
        defer { for r in [rootA, rootB] { try? FileManager.default.removeItem(atPath: r) } }
        let build = try CacheFixture.build(5)
        let committed = try await Self.commit(build, seed: 5, to: a)
        let blob = "blobs/sha256/\(committed.digest)"
        var bytes = try #require(bucket[blob])
        bytes[100] ^= 0xFF  // same size, one byte flipped
        bucket[blob] = bytes
        #expect(try await b.lookup(build.cacheKey) == nil)
        #expect(await b.corruptObjects == 1)
        #expect(CacheFixture.files(under: b.local.artifactsDirectory).isEmpty, "nothing of it was kept")
        #expect(CacheFixture.files(under: b.local.stagingDirectory).isEmpty)
        // Known corrupted: not downloaded again before this hub builds the key anew.
        let gets = bucket.calls("get")
        #expect(try await b.lookup(build.cacheKey) == nil)
        #expect(bucket.calls("get") == gets)
        bucket[blob] = bytes + [0]  // longer than the document says
        let (d, rootD) = try await Self.open(bucket)
        defer { try? FileManager.default.removeItem(atPath: rootD) }
        #expect(try await d.lookup(build.cacheKey) == nil)
        #expect(await d.corruptObjects == 1)
        // The rebuild (hub b builds the same bytes) stores good bytes over the bad ones.
        _ = try await Self.commit(build, seed: 5, to: b)
        #expect(bucket[blob] == CacheFixture.bytes(size: 4096, seed: 5))
        let (c, rootC) = try await Self.open(bucket)
        defer { try? FileManager.default.removeItem(atPath: rootC) }
        #expect(try await c.lookup(build.cacheKey)?.digest == committed.digest)
    }

    @Test func anUnreachableBucketServesLocalHitsAndRefusesMisses() async throws {
        let bucket = MemoryObjectStore()
        let (store, root) = try await Self.open(bucket)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cached = try CacheFixture.build(6)
        _ = try await Self.commit(cached, seed: 6, to: store)
        bucket.isReachable = false
        #expect(try await store.lookup(cached.cacheKey) != nil, "a hit on the disk needs no bucket")
        do {
            _ = try await store.lookup(try CacheFixture.build(7).cacheKey)
            Issue.record("a miss was answered without the bucket")
        } catch {
            #expect((error as? ProxError)?.kind == .unavailable)
        }
    }

    @Test func aFailedUploadIsServedFromDiskAndRetried() async throws {
        let bucket = MemoryObjectStore()
        let (store, root) = try await Self.open(bucket, retryDelays: [.milliseconds(50), .milliseconds(50), .milliseconds(50), .milliseconds(50)])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let build = try CacheFixture.build(8)
        bucket.isReachable = false
        let committed = try await Self.commit(build, seed: 8, to: store)
        #expect(await store.pendingUploads.contains(build.cacheKey))
        #expect(try await store.lookup(build.cacheKey)?.digest == committed.digest, "served from this hub's disk")
        bucket.isReachable = true
        await store.waitForUploads()
        #expect(bucket["keys/\(build.cacheKey.hex).json"] != nil)
        #expect(bucket["blobs/sha256/\(committed.digest)"] == CacheFixture.bytes(size: 4096, seed: 8))
    }

    @Test func uploadsLeftWaitingAreTakenUpAfterARestart() async throws {
        let bucket = MemoryObjectStore()
        let (store, root) = try await Self.open(bucket, retryDelays: [.seconds(3600)])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let build = try CacheFixture.build(11)
        bucket.isReachable = false
        let committed = try await Self.commit(build, seed: 11, to: store)
        #expect(await store.pendingUploads == [build.cacheKey])
        // The hub stops before its retry; the next run on the same disk takes the upload up.
        bucket.isReachable = true
        let restarted = BucketArtifactStore(local: store.local, bucket: bucket, retryDelays: [.milliseconds(10)])
        #expect(await restarted.resumeUploads() == 1)
        await restarted.waitForUploads()
        #expect(bucket["keys/\(build.cacheKey.hex).json"] != nil)
        #expect(bucket["blobs/sha256/\(committed.digest)"] == CacheFixture.bytes(size: 4096, seed: 11))
        // Done: a third run finds nothing left to do.
        #expect(await BucketArtifactStore(local: store.local, bucket: bucket).resumeUploads() == 0)
    }

    @Test func removalTakesTheKeyOutOfTheBucketToo() async throws {
        let bucket = MemoryObjectStore()
        let (store, root) = try await Self.open(bucket)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let build = try CacheFixture.build(9)
        let committed = try await Self.commit(build, seed: 9, to: store)
        #expect(try await store.remove(build.cacheKey))
        #expect(bucket["keys/\(build.cacheKey.hex).json"] == nil)
        #expect(bucket["blobs/sha256/\(committed.digest)"] != nil, "the binary stays for the bucket's lifecycle")
        #expect(try await store.lookup(build.cacheKey) == nil)
        #expect(try await store.remove(build.cacheKey) == false)
    }
}
