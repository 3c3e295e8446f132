import BuildCore
import CacheStore
import Foundation
import Logging
import ProxTestSupport
import ProxTesting
import QueueRedis
import Testing

/// The ``DownloadCounter``s count alike: Redis (hub mode, shared by every hub) against a
/// real redis-server, SQLite (standalone) in a real index file, and the in-memory twin.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DownloadCounterTests {
    static let hello = "github.com/proxfixture/hello", withdep = "github.com/proxfixture/withdep"

    /// Records downloads and reads them back; `count` is asked of a second client where
    /// there is one (another hub).
    static func exercise(_ counter: any DownloadCounter, reader: (any DownloadCounter)? = nil) async throws {
        let amd64 = try Platform(os: "linux", arch: "amd64"), arm6 = try Platform(os: "linux", arch: "arm", arm: "6")
        #expect(await counter.downloadCounts().isEmpty)
        #expect(await counter.popularSets(since: Date().addingTimeInterval(-86_400), limit: 5).isEmpty)
        for _ in 0..<3 { await counter.recordDownload(packages: [withdep, hello], platform: amd64) }
        for _ in 0..<2 { await counter.recordDownload(packages: [hello], platform: arm6) }
        await counter.recordDownload(packages: [], platform: amd64)  // plain Caddy
        let reader = reader ?? counter
        #expect(await reader.downloadCounts() == [hello: 5, withdep: 3])
        let sets = await reader.popularSets(since: Date().addingTimeInterval(-7 * 86_400), limit: 5)
        #expect(sets == [
            PopularSet(packages: [hello, withdep], platform: amd64, downloads: 3),
            PopularSet(packages: [hello], platform: arm6, downloads: 2),
            PopularSet(packages: [], platform: amd64, downloads: 1),
        ])
        #expect(await reader.popularSets(since: Date().addingTimeInterval(-7 * 86_400), limit: 1).count == 1, "at most the limit")
        #expect(await reader.popularSets(since: Date().addingTimeInterval(86_400 * 2), limit: 5).isEmpty, "nothing after today")
    }

    static func client(_ server: RedisServer, _ name: String) -> RedisClient {
        var logger = Logger(label: "test.downloads")
        logger.logLevel = .critical
        return RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: server.port), name: name, logger: logger)
    }

    @Test func redisCountsForEveryHubAndForgetsOldDays() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let logger = Logger(label: "test.downloads")
        let one = Self.client(server, "hub-a"), other = Self.client(server, "hub-b")
        let retention = Duration.seconds(31 * 86_400)
        let counter = RedisDownloadCounter(client: one, schema: RedisSchema(), retention: retention, logger: logger)
        try await Self.exercise(counter, reader: RedisDownloadCounter(client: other, schema: RedisSchema(), retention: retention, logger: logger))

        // A day's sets expire `retention` after the day ends.
        let today = Int(Date().timeIntervalSince1970 / 86_400)
        let expiresAt = try #require(try await one.send(["EXPIRETIME", "prox:download-sets:\(today)"]).int)
        #expect(expiresAt == Int64(today + 1) * 86_400 + 31 * 86_400)
        // Days before the window do not count; days inside it add up.
        let amd64 = try Platform(os: "linux", arch: "amd64")
        _ = try await one.send(["ZINCRBY", "prox:download-sets:\(today - 10)", 50, "linux/amd64/0 \(Self.withdep)"])
        _ = try await one.send(["ZINCRBY", "prox:download-sets:\(today - 2)", 4, "linux/amd64/0 \(Self.withdep)"])
        let week = await counter.popularSets(since: Date().addingTimeInterval(-7 * 86_400), limit: 1)
        #expect(week == [PopularSet(packages: [Self.withdep], platform: amd64, downloads: 4)])
        let month = await counter.popularSets(since: Date().addingTimeInterval(-30 * 86_400), limit: 1)
        #expect(month == [PopularSet(packages: [Self.withdep], platform: amd64, downloads: 54)])
        #expect(try await one.send(["KEYS", "prox:download-sets:sum:*"]).array?.isEmpty == true, "the scratch sums are deleted")

        // Redis away: counting and reading give nothing, and never throw.
        server.stop()
        await counter.recordDownload(packages: [Self.hello], platform: amd64)
        #expect(await counter.downloadCounts().isEmpty)
        #expect(await counter.popularSets(since: Date().addingTimeInterval(-86_400), limit: 5).isEmpty)
        await one.close()
        await other.close()
    }

    @Test func sqliteCountsTheSame() async throws {
        let root = Fixture.temporaryDirectory("prox-downloads-sqlite")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await ArtifactCache(configuration: .init(root: root), logger: Logger(label: "test.downloads"))
        try await Self.exercise(cache.downloads)
    }

    @Test func theMemoryTwinCountsTheSame() async throws {
        try await Self.exercise(try MemoryArtifactStore(root: Fixture.temporaryDirectory("prox-downloads-memory")))
    }
}
