import BuildCore
import CacheStore
import Foundation
import ProxCommands
import ProxTestSupport
import Testing

/// The cache through a live hub: quota and LRU eviction, and repair after a crash.
@Suite struct CacheLifecycleTests {
    static func download(_ plugin: String) -> String {
        "/api/download?os=linux&arch=amd64&p=" + (plugin.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? plugin)
    }
    static let a = download("github.com/proxfixture/hello")
    static let b = download("github.com/proxfixture/withdep")
    static let c = download("github.com/ProxFixture/UpperCase")

    @Test func hitsNotYetWrittenReachTheIndexWhenTheHubStops() async throws {
        let data = Fixture.temporaryDirectory("prox-hub")
        // Hits wait an hour to be written: only the graceful stop can write them.
        let hub = try await LiveHub.start(dataDirectory: data) { $0.cacheHitWriteInterval = .seconds(3600) }
        let built = try await hub.get(Self.a)
        #expect(built.header("X-Prox-Cache") == "miss")
        for _ in 0..<3 { #expect(try await hub.get(Self.a).header("X-Prox-Cache") == "hit") }
        let index = { () async throws -> ArtifactRecord? in
            let reader = try await ArtifactCache(configuration: .init(root: data + "/cache"))
            return try await reader.entries().first { $0.digest == built.sha256 }
        }
        #expect(try await index()?.hits == 0, "not written yet while the hub runs")
        await hub.stop()
        #expect(try await index()?.hits == 3, "written by the graceful stop")
    }

    @Test func evictsOnlyTheLeastRecentlyUsedAndRepairsAfterACrash() async throws {
        let data = Fixture.temporaryDirectory("prox-hub")
        // Learn the artifact size, then give the cache room for two and a half.
        let sizing = try await LiveHub.start(dataDirectory: data)
        let first = try await sizing.get(Self.a)
        #expect(first.status == 200)
        await sizing.stop()
        let quota = Int64(Double(first.body.count) * 2.6)

        var hub = try await LiveHub.start(dataDirectory: data) { $0.cacheMaxSize = quota }
        #expect(try await hub.get(Self.a).header("X-Prox-Cache") == "hit")
        let b = try await hub.get(Self.b)
        #expect(b.header("X-Prox-Cache") == "miss")
        #expect(try await hub.get(Self.a).header("X-Prox-Cache") == "hit")  // A is now more recent than B
        let c = try await hub.get(Self.c)
        #expect(c.status == 200)
        #expect(await hub.hub.cache.evictionCount == 1)
        #expect(await hub.hub.cache.totalSize <= quota)
        #expect(try await hub.get(Self.a).header("X-Prox-Cache") == "hit", "recently used: kept")
        #expect(try await hub.get(Self.c).header("X-Prox-Cache") == "hit", "newest: kept")
        let entries = try await hub.hub.cache.entries()
        #expect(entries.count == 2)
        #expect(!entries.contains { $0.digest == b.sha256 }, "least recently used: evicted")
        await hub.stop()

        // Simulate a crash: a half-written staging file, an artifact cut short, a row whose
        // file is gone, and a file with no row.
        let cacheRoot = data + "/cache"
        let staging = cacheRoot + "/staging/leftover-build"
        FileManager.default.createFile(atPath: staging, contents: Data(repeating: 7, count: 1000))
        let aEntry = try #require(entries.first { $0.digest == first.sha256 })
        let cEntry = try #require(entries.first { $0.digest == c.sha256 })
        try FileManager.default.removeItem(atPath: aEntry.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: cEntry.path)
        let handle = try #require(FileHandle(forUpdatingAtPath: cEntry.path))
        try handle.truncate(atOffset: 4096)
        try handle.close()
        let orphanDigest = String(repeating: "ab", count: 32)
        try FileManager.default.createDirectory(atPath: cacheRoot + "/artifacts/ab", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: cacheRoot + "/artifacts/ab/" + orphanDigest, contents: Data([1, 2, 3]))

        hub = try await LiveHub.start(dataDirectory: data) { $0.cacheMaxSize = quota }
        let restarted = hub
        defer { Task { await restarted.stop() } }
        let recovery = await hub.hub.cache.recovery
        #expect(recovery.stagingFilesRemoved == 1)
        #expect(recovery.rowsDropped == 2, "the missing file and the truncated one")
        #expect(recovery.orphanFilesRemoved >= 2, "the orphan and the truncated file: \(recovery)")
        #expect(!FileManager.default.fileExists(atPath: staging))
        #expect(!FileManager.default.fileExists(atPath: cacheRoot + "/artifacts/ab/" + orphanDigest))

        // Never served truncated: both are rebuilt, whole, and (builds being reproducible) identical.
        let rebuiltC = try await hub.get(Self.c)
        #expect(rebuiltC.header("X-Prox-Cache") == "miss")
        #expect(rebuiltC.sha256 == c.sha256)
        let rebuiltA = try await hub.get(Self.a)
        #expect(rebuiltA.header("X-Prox-Cache") == "miss")
        #expect(rebuiltA.sha256 == first.sha256)
    }
}
