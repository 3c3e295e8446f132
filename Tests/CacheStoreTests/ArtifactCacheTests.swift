import BuildCore
import CacheStore
import Foundation
import ProxTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("ArtifactCache (real SQLite)")
struct ArtifactCacheTests {
    /// `printf 'prox artifact v1\n' | sha256sum`
    static let knownBytes = Array("prox artifact v1\n".utf8)
    static let knownDigest = "a3602afbd92b401b95b68a3875285d52b6afc27d8a28012b2089ae4cebc3b695"

    @Test("a fresh cache creates its layout and is empty")
    func freshLayout() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        #expect(cache.stagingDirectory == root + "/staging")
        #expect(cache.artifactsDirectory == root + "/artifacts")
        #expect(FileManager.default.fileExists(atPath: root + "/index.sqlite"))
        #expect(await cache.totalSize == 0)
        #expect(CacheFixture.isClean(await cache.recovery))
        #expect(try await cache.lookup(try CacheFixture.build().cacheKey) == nil)
        #expect(try await cache.entries().isEmpty)
    }

    @Test("commit then lookup returns the same digest, size and bytes")
    func commitThenLookup() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let staged = try CacheFixture.stage(Self.knownBytes, in: cache)
        let committed = try await cache.commit(key: build.cacheKey, build: build, file: staged, expectedDigest: nil)
        #expect(committed.digest == Self.knownDigest)
        #expect(committed.size == Int64(Self.knownBytes.count))
        #expect(committed.key == build.cacheKey)
        #expect(committed.build == build)
        #expect(committed.path == root + "/artifacts/a3/" + Self.knownDigest)
        #expect(committed.path == cache.path(forDigest: Self.knownDigest))
        #expect(!committed.pinned)
        // The staged file was moved, not copied; the stored file is read-only.
        #expect(!FileManager.default.fileExists(atPath: staged))
        #expect(CacheFixture.files(under: cache.stagingDirectory).isEmpty)
        let attributes = try FileManager.default.attributesOfItem(atPath: committed.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o444)
        #expect(await cache.totalSize == Int64(Self.knownBytes.count))

        let found = try #require(try await cache.lookup(build.cacheKey))
        #expect(found.digest == committed.digest)
        #expect(found.size == committed.size)
        #expect(found.path == committed.path)
        #expect(found.build == build)
        #expect(CacheFixture.contents(found.path) == Self.knownBytes)
        // Another key is still a miss.
        #expect(try await cache.lookup(try CacheFixture.build(1).cacheKey) == nil)
    }

    @Test("lookups count hits and update last access")
    func hits() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let committed = try await cache.commit(key: build.cacheKey, build: build, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil)
        #expect(committed.hits == 0)
        try await Task.sleep(for: .milliseconds(20))
        let first = try #require(try await cache.lookup(build.cacheKey))
        #expect(first.hits == 1)
        #expect(first.lastAccess > committed.lastAccess)
        let second = try #require(try await cache.lookup(build.cacheKey))
        #expect(second.hits == 2)
        #expect(second.lastAccess >= first.lastAccess)
        #expect(try await cache.entries().first?.hits == 2)
        // Hits are persisted in the index.
        let reopened = try await CacheFixture.open(root)
        #expect(try await reopened.lookup(build.cacheKey)?.hits == 3)
    }

    @Test("a matching expectedDigest (any case) is accepted")
    func expectedDigestAccepted() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let record = try await cache.commit(
            key: build.cacheKey, build: build, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: Self.knownDigest.uppercased()
        )
        #expect(record.digest == Self.knownDigest)
    }

    @Test("a wrong expectedDigest is invalidArtifact and leaves nothing behind")
    func wrongDigest() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let staged = try CacheFixture.stage(Self.knownBytes, in: cache)
        let wrong = String(repeating: "0", count: 64)
        let error = await #expect(throws: ProxError.self) {
            try await cache.commit(key: build.cacheKey, build: build, file: staged, expectedDigest: wrong)
        }
        #expect(error?.kind == .invalidArtifact)
        #expect(error?.message.contains(Self.knownDigest) == true)
        #expect(CacheFixture.files(under: cache.stagingDirectory).isEmpty)
        #expect(CacheFixture.files(under: cache.artifactsDirectory).isEmpty)
        #expect(try await cache.lookup(build.cacheKey) == nil)
        #expect(await cache.totalSize == 0)
    }

    @Test("an empty artifact is invalidArtifact and is removed")
    func emptyArtifact() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let staged = try CacheFixture.stage([], in: cache)
        let error = await #expect(throws: ProxError.self) { try await cache.commit(key: build.cacheKey, build: build, file: staged, expectedDigest: nil) }
        #expect(error?.kind == .invalidArtifact)
        #expect(!FileManager.default.fileExists(atPath: staged))
        #expect(try await cache.lookup(build.cacheKey) == nil)
    }

    @Test("committing a key already cached returns the existing record and removes the new file")
    func duplicateKey() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let first = try await cache.commit(key: build.cacheKey, build: build, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil)
        let other = try CacheFixture.stage(Array("different bytes".utf8), in: cache)
        let second = try await cache.commit(key: build.cacheKey, build: build, file: other, expectedDigest: nil)
        #expect(second.digest == first.digest)
        #expect(!FileManager.default.fileExists(atPath: other))
        #expect(CacheFixture.files(under: cache.artifactsDirectory) == ["a3/" + Self.knownDigest])
        #expect(await cache.totalSize == Int64(Self.knownBytes.count))
    }

    @Test("two keys with identical bytes share one file, counted once")
    func sharedDigest() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let a = try CacheFixture.build(1), b = try CacheFixture.build(2)
        let ra = try await cache.commit(key: a.cacheKey, build: a, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil)
        let rb = try await cache.commit(key: b.cacheKey, build: b, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil)
        #expect(ra.path == rb.path)
        #expect(CacheFixture.files(under: cache.artifactsDirectory).count == 1)
        #expect(CacheFixture.files(under: cache.stagingDirectory).isEmpty)
        #expect(await cache.totalSize == Int64(Self.knownBytes.count))
        #expect(try await cache.lookup(a.cacheKey) != nil)
        #expect(try await cache.lookup(b.cacheKey) != nil)
    }

    @Test("an artifact larger than the whole quota is insufficientStorage and is removed")
    func tooLarge() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root, maxSize: Int64(CacheFixture.mib))
        let build = try CacheFixture.build()
        let staged = try CacheFixture.stage(CacheFixture.bytes(size: CacheFixture.mib + 1, seed: 1), in: cache)
        let error = await #expect(throws: ProxError.self) { try await cache.commit(key: build.cacheKey, build: build, file: staged, expectedDigest: nil) }
        #expect(error?.kind == .insufficientStorage)
        #expect(error?.message.contains("--cache-max-size") == true)
        #expect(!FileManager.default.fileExists(atPath: staged))
        #expect(CacheFixture.files(under: cache.artifactsDirectory).isEmpty)
        #expect(try await cache.lookup(build.cacheKey) == nil)
        // Exactly the quota fits.
        let fits = try CacheFixture.stage(CacheFixture.bytes(size: CacheFixture.mib, seed: 2), in: cache)
        #expect(try await cache.commit(key: build.cacheKey, build: build, file: fits, expectedDigest: nil).size == Int64(CacheFixture.mib))
    }

    /// Commits four 1 MiB artifacts under a 3 MiB quota, touching the first before the fourth.
    @Test("eviction removes exactly the least-recently-used entry")
    func evictionLRU() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root, maxSize: 3 * Int64(CacheFixture.mib))
        var records: [ArtifactRecord] = []
        for n in 0..<3 {
            let build = try CacheFixture.build(n)
            records.append(try await CacheFixture.commit(build, size: CacheFixture.mib, seed: UInt8(n + 1), to: cache))
            try await Task.sleep(for: .milliseconds(15))
        }
        #expect(await cache.totalSize == 3 * Int64(CacheFixture.mib))
        #expect(try await cache.lookup(records[0].key) != nil)  // 0 is now the most recent; 1 is the oldest
        try await Task.sleep(for: .milliseconds(15))
        let fourth = try CacheFixture.build(3)
        let d = try await CacheFixture.commit(fourth, size: CacheFixture.mib, seed: 4, to: cache)

        #expect(try await cache.lookup(records[1].key) == nil, "the least-recently-used entry is evicted")
        #expect(!FileManager.default.fileExists(atPath: records[1].path))
        for kept in [records[0], records[2], d] {
            #expect(try await cache.lookup(kept.key) != nil)
            #expect(FileManager.default.fileExists(atPath: kept.path))
        }
        #expect(await cache.evictionCount == 1)
        #expect(await cache.totalSize == 3 * Int64(CacheFixture.mib))
        #expect(CacheFixture.files(under: cache.artifactsDirectory).count == 3)
    }

    @Test("a lowered quota is enforced at the next start, least-recently-used first")
    func loweredQuotaAtStart() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var records: [ArtifactRecord] = []
        do {
            let cache = try await CacheFixture.open(root, maxSize: 4 * Int64(CacheFixture.mib))
            for n in 0..<3 {
                let build = try CacheFixture.build(n)
                records.append(try await CacheFixture.commit(build, size: CacheFixture.mib, seed: UInt8(n + 1), to: cache))
                try await Task.sleep(for: .milliseconds(15))
            }
        }
        let smaller = try await CacheFixture.open(root, maxSize: 2 * Int64(CacheFixture.mib))
        #expect(await smaller.totalSize <= Int64(Double(2 * CacheFixture.mib) * 0.9))
        #expect(try await smaller.lookup(records[0].key) == nil, "oldest evicted")
        #expect(try await smaller.lookup(records[1].key) == nil, "next oldest evicted to reach the low-water mark")
        #expect(try await smaller.lookup(records[2].key) != nil, "newest kept")
        #expect(CacheFixture.files(under: smaller.artifactsDirectory).count == 1)
    }

    @Test("pinned entries survive eviction")
    func pinnedSurvive() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root, maxSize: 3 * Int64(CacheFixture.mib))
        var records: [ArtifactRecord] = []
        for n in 0..<3 {
            let build = try CacheFixture.build(n)
            records.append(try await CacheFixture.commit(build, size: CacheFixture.mib, seed: UInt8(n + 1), to: cache))
            try await Task.sleep(for: .milliseconds(15))
        }
        try await cache.setPinned(records[0].key, true)  // the oldest, but pinned
        let fourth = try CacheFixture.build(3)
        _ = try await CacheFixture.commit(fourth, size: CacheFixture.mib, seed: 4, to: cache)
        let pinned = try #require(try await cache.lookup(records[0].key))
        #expect(pinned.pinned)
        #expect(try await cache.lookup(records[1].key) == nil)
        #expect(try await cache.lookup(records[2].key) != nil)
        #expect(try await cache.lookup(fourth.cacheKey) != nil)
    }

    @Test("a cache full of pinned entries refuses a new one and keeps the pinned ones")
    func allPinned() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root, maxSize: 3 * Int64(CacheFixture.mib))
        var records: [ArtifactRecord] = []
        for n in 0..<3 {
            let build = try CacheFixture.build(n)
            records.append(try await CacheFixture.commit(build, size: CacheFixture.mib, seed: UInt8(n + 1), to: cache))
            try await cache.setPinned(records[n].key, true)
        }
        let fourth = try CacheFixture.build(3)
        let staged = try CacheFixture.stage(CacheFixture.bytes(size: CacheFixture.mib, seed: 4), in: cache)
        let error = await #expect(throws: ProxError.self) { try await cache.commit(key: fourth.cacheKey, build: fourth, file: staged, expectedDigest: nil) }
        #expect(error?.kind == .insufficientStorage)
        #expect(!FileManager.default.fileExists(atPath: staged))
        for record in records { #expect(try await cache.lookup(record.key) != nil) }
        // Unpinning makes room again.
        try await cache.setPinned(records[2].key, false)
        let again = try CacheFixture.stage(CacheFixture.bytes(size: CacheFixture.mib, seed: 4), in: cache)
        _ = try await cache.commit(key: fourth.cacheKey, build: fourth, file: again, expectedDigest: nil)
        #expect(try await cache.lookup(records[2].key) == nil)
        #expect(try await cache.lookup(fourth.cacheKey) != nil)
    }

    @Test("restart: a stray file in staging is removed")
    func recoveryStaging() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            let cache = try await CacheFixture.open(root)
            _ = try CacheFixture.stage(Self.knownBytes, in: cache)
        }
        #expect(CacheFixture.files(under: root + "/staging").count == 1)
        let reopened = try await CacheFixture.open(root)
        #expect(CacheFixture.files(under: root + "/staging").isEmpty)
        #expect(await reopened.recovery.stagingFilesRemoved == 1)
        #expect(await reopened.recovery.rowsDropped == 0)
    }

    @Test("restart: a row whose file was deleted is dropped")
    func recoveryMissingFile() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let build = try CacheFixture.build(), other = try CacheFixture.build(1)
        let path: String
        do {
            let cache = try await CacheFixture.open(root)
            path = try await cache.commit(key: build.cacheKey, build: build, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil).path
            _ = try await cache.commit(key: other.cacheKey, build: other, file: try CacheFixture.stage(Array("kept".utf8), in: cache), expectedDigest: nil)
        }
        try FileManager.default.removeItem(atPath: path)
        let reopened = try await CacheFixture.open(root)
        #expect(await reopened.recovery.rowsDropped == 1)
        #expect(try await reopened.lookup(build.cacheKey) == nil)
        #expect(try await reopened.entries().map(\.key) == [other.cacheKey])
        #expect(try await reopened.lookup(other.cacheKey) != nil)
        #expect(await reopened.totalSize == 4)
    }

    @Test("a truncated artifact file is never served")
    func truncatedNeverServed() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let build = try CacheFixture.build()
        let record = try await cache.commit(key: build.cacheKey, build: build, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil)
        chmod(record.path, 0o644)
        #expect(truncate(record.path, 5) == 0)
        #expect(try await cache.lookup(build.cacheKey) == nil)
        #expect(try await cache.lookup(build.cacheKey) == nil)
        #expect(try await cache.entries().isEmpty)
        // And not after a restart either.
        let reopened = try await CacheFixture.open(root)
        #expect(try await reopened.lookup(build.cacheKey) == nil)
    }

    @Test("restart: a truncated artifact's row is dropped and its file removed")
    func recoveryTruncated() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let build = try CacheFixture.build()
        let path: String
        do {
            let cache = try await CacheFixture.open(root)
            path = try await cache.commit(key: build.cacheKey, build: build, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil).path
        }
        chmod(path, 0o644)
        #expect(truncate(path, 5) == 0)
        let reopened = try await CacheFixture.open(root)
        #expect(await reopened.recovery.rowsDropped == 1)
        #expect(try await reopened.lookup(build.cacheKey) == nil)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(await reopened.totalSize == 0)
    }

    @Test("restart: orphan files in artifacts/ are removed, indexed ones kept")
    func recoveryOrphans() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let build = try CacheFixture.build()
        let kept: String
        do {
            let cache = try await CacheFixture.open(root)
            kept = try await cache.commit(key: build.cacheKey, build: build, file: try CacheFixture.stage(Self.knownBytes, in: cache), expectedDigest: nil).path
        }
        let orphanName = "ab" + String(repeating: "c", count: 62)
        try FileManager.default.createDirectory(atPath: root + "/artifacts/ab", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/artifacts/ab/" + orphanName, contents: Data("orphan".utf8)))
        let reopened = try await CacheFixture.open(root)
        #expect(await reopened.recovery.orphanFilesRemoved == 1)
        #expect(await reopened.recovery.rowsDropped == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/artifacts/ab/" + orphanName))
        #expect(FileManager.default.fileExists(atPath: kept))
        #expect(try await reopened.lookup(build.cacheKey)?.path == kept)
        #expect(await reopened.totalSize == Int64(Self.knownBytes.count))
    }

    @Test("restart: misnamed files in artifacts/ are removed too")
    func recoveryMisnamed() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try await CacheFixture.open(root)
        try FileManager.default.createDirectory(atPath: root + "/artifacts/ab", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/artifacts/ab/junk", contents: Data("x".utf8))
        _ = FileManager.default.createFile(atPath: root + "/artifacts/ab/" + "cd" + String(repeating: "0", count: 62), contents: Data("x".utf8))
        let reopened = try await CacheFixture.open(root)
        #expect(await reopened.recovery.orphanFilesRemoved == 2)
        #expect(CacheFixture.files(under: root + "/artifacts").isEmpty)
    }

    @Test("restart keeps good entries and the total size")
    func restartKeeps() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var keys: [CacheKey] = []
        do {
            let cache = try await CacheFixture.open(root)
            for n in 0..<3 {
                let build = try CacheFixture.build(n)
                keys.append(build.cacheKey)
                _ = try await CacheFixture.commit(build, size: 1000 * (n + 1), seed: UInt8(n), to: cache)
            }
        }
        let reopened = try await CacheFixture.open(root)
        #expect(CacheFixture.isClean(await reopened.recovery))
        #expect(await reopened.totalSize == 6000)
        for key in keys { #expect(try await reopened.lookup(key) != nil) }
    }

    @Test("a file deleted behind the cache's back no longer counts against the quota")
    func vanishedFileFreesQuota() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root, maxSize: 3 * Int64(CacheFixture.mib))
        var records: [ArtifactRecord] = []
        for n in 0..<3 {
            let build = try CacheFixture.build(n)
            records.append(try await CacheFixture.commit(build, size: CacheFixture.mib, seed: UInt8(n + 1), to: cache))
        }
        for record in records { try FileManager.default.removeItem(atPath: record.path) }
        for record in records { #expect(try await cache.lookup(record.key) == nil) }
        // The index is empty and so is the disk: the cache must not think it is full.
        #expect(try await cache.entries().isEmpty)
        #expect(await cache.totalSize == 0)
        let fourth = try CacheFixture.build(3)
        let staged = try CacheFixture.stage(CacheFixture.bytes(size: CacheFixture.mib, seed: 4), in: cache)
        let record = try await cache.commit(key: fourth.cacheKey, build: fourth, file: staged, expectedDigest: nil)
        #expect(record.size == Int64(CacheFixture.mib))
    }

    @Test("download counts accumulate per package path and persist")
    func downloads() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            let cache = try await CacheFixture.open(root)
            #expect(await cache.downloads.downloadCounts().isEmpty)
            await cache.downloads.recordDownload(packages: ["github.com/proxfixture/hello", "github.com/proxfixture/withdep"], platform: try Platform(os: "linux", arch: "amd64"))
            await cache.downloads.recordDownload(packages: ["github.com/proxfixture/hello"], platform: try Platform(os: "linux", arch: "arm", arm: "6"))
            await cache.downloads.recordDownload(packages: [], platform: try Platform(os: "linux", arch: "amd64"))
            await cache.downloads.recordDownload(packages: ["github.com/proxfixture/withdep", "github.com/proxfixture/hello"], platform: try Platform(os: "linux", arch: "amd64"))
            #expect(await cache.downloads.downloadCounts() == ["github.com/proxfixture/hello": 3, "github.com/proxfixture/withdep": 2])
        }
        let reopened = try await CacheFixture.open(root)
        #expect(await reopened.downloads.downloadCounts()["github.com/proxfixture/hello"] == 3)
        // Sets count per platform, in either order of their packages; plain Caddy is a set too.
        let popular = await reopened.downloads.popularSets(since: Date(timeIntervalSinceNow: -86_400), limit: 10)
        #expect(popular == [
            PopularSet(packages: ["github.com/proxfixture/hello", "github.com/proxfixture/withdep"], platform: try Platform(os: "linux", arch: "amd64"), downloads: 2),
            PopularSet(packages: [], platform: try Platform(os: "linux", arch: "amd64"), downloads: 1),
            PopularSet(packages: ["github.com/proxfixture/hello"], platform: try Platform(os: "linux", arch: "arm", arm: "6"), downloads: 1),
        ])
        #expect(await reopened.downloads.popularSets(since: Date(timeIntervalSinceNow: -86_400), limit: 1).count == 1)
        #expect(await reopened.downloads.popularSets(since: Date(timeIntervalSinceNow: 2 * 86_400), limit: 10).isEmpty, "outside the window")
    }

    @Test("documents are saved, replaced and loaded back, across restarts")
    func documents() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let before = Date()
        do {
            let cache = try await CacheFixture.open(root)
            #expect(await cache.documents.loadDocument(named: "packages") == nil)
            try await cache.documents.saveDocument(named: "packages", data: Array("first".utf8))
            try await cache.documents.saveDocument(named: "packages", data: Array("second".utf8))
            try await cache.documents.saveDocument(named: "other", data: [0, 1, 2, 255])
            let loaded = try #require(await cache.documents.loadDocument(named: "packages"))
            #expect(loaded.data == Array("second".utf8))
            #expect(loaded.fetchedAt.timeIntervalSince(before) > -1)
            #expect(loaded.fetchedAt.timeIntervalSinceNow < 1)
        }
        let reopened = try await CacheFixture.open(root)
        #expect(await reopened.documents.loadDocument(named: "packages")?.data == Array("second".utf8))
        #expect(await reopened.documents.loadDocument(named: "other")?.data == [0, 1, 2, 255])
    }

    @Test("entries() lists the most recently used first")
    func entriesOrder() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        var keys: [CacheKey] = []
        for n in 0..<3 {
            let build = try CacheFixture.build(n)
            keys.append(build.cacheKey)
            _ = try await CacheFixture.commit(build, size: 100, seed: UInt8(n), to: cache)
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try await cache.lookup(keys[0])
        let entries = try await cache.entries()
        #expect(entries.map(\.key) == [keys[0], keys[2], keys[1]])
        #expect(entries.allSatisfy { $0.path == cache.path(forDigest: $0.digest) })
    }
}
