import BuildCore
import CacheStore
import Foundation
import Logging
import ProxTestSupport
import ProxTesting
import QueueRedis
import Testing

/// The three ``CompatibilityStore``s keep the same counts: Redis (hub mode) against a real
/// redis-server, SQLite (standalone) in a real index file, and the in-memory twin.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct CompatibilityStoreTests {
    static let at = Date(timeIntervalSince1970: 1_767_000_000)

    static func fact(_ version: String, _ target: String, ok: Bool, error: String? = nil, at offset: Double) -> CompatibilityFact {
        CompatibilityFact(
            path: "github.com/ProxFixture/UpperCase", module: "github.com/ProxFixture/UpperCase", version: version, caddyVersion: "v2.8.4",
            goVersion: "go1.23.5", target: target, succeeded: ok, error: error, at: at + offset)
    }

    static let facts = [
        fact("v1.0.0", "linux/amd64", ok: true, at: 0),
        fact("v1.1.0", "linux/amd64", ok: false, error: "old.go:1:1: x", at: 1),
        fact("v1.1.0", "linux/amd64", ok: false, error: "upper.go:27:13: cannot use x", at: 2),
        fact("v1.1.0", "windows/amd64", ok: true, at: 3),
        fact("v1.1.0", "linux/amd64", ok: true, at: 4),
    ]

    /// Records the facts one by one and reads them back.
    static func exercise(_ store: any CompatibilityStore) async throws {
        #expect(try await store.rows(forPackage: "github.com/ProxFixture/UpperCase").isEmpty)
        for fact in facts { await store.record([fact]) }
        let rows = try await store.rows(forPackage: "github.com/ProxFixture/UpperCase").sorted { ($0.version, $0.target) < ($1.version, $1.target) }
        #expect(rows.map { "\($0.version) \($0.target) \($0.succeeded)/\($0.failed)" } == [
            "v1.0.0 linux/amd64 1/0", "v1.1.0 linux/amd64 1/2", "v1.1.0 windows/amd64 1/0",
        ])
        #expect(rows[1].lastError == "upper.go:27:13: cannot use x", "the newest failure's line")
        #expect(rows[1].lastSucceeded, "its newest build succeeded")
        #expect(abs(rows[1].lastAt.timeIntervalSince(at + 4)) < 0.01)
        let summary = try #require(CompatibilitySummary.summarize(rows).first)
        #expect((summary.version, summary.builds, summary.failed) == ("v1.1.0", 4, 2))
        #expect(summary.targets == ["linux/amd64", "windows/amd64"])
        let last = try await store.lastBuilds()
        #expect(last["github.com/ProxFixture/UpperCase"]?.version == "v1.1.0")
        #expect(last["github.com/ProxFixture/UpperCase"]?.succeeded == true)
        #expect(try await store.rows(forPackage: "github.com/proxfixture/uppercase").isEmpty, "paths are case-sensitive")
    }

    @Test func redisKeepsTheCountsEveryHubReads() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        var logger = Logger(label: "test.compat")
        logger.logLevel = .critical
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: server.port), name: "test", logger: logger)
        try await Self.exercise(RedisCompatibilityStore(client: client, schema: RedisSchema(), logger: logger))
        // Another hub's client reads the same.
        let other = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: server.port), name: "other", logger: logger)
        #expect(try await RedisCompatibilityStore(client: other, schema: RedisSchema(), logger: logger).rows(forPackage: "github.com/ProxFixture/UpperCase").count == 3)
        await client.close()
        await other.close()
    }

    @Test func sqliteKeepsTheSameCountsAcrossAReopen() async throws {
        let root = Fixture.temporaryDirectory("prox-compat-sqlite")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let logger = Logger(label: "test.compat")
        do {
            let cache = try await ArtifactCache(configuration: .init(root: root), logger: logger)
            try await Self.exercise(cache.compatibility)
        }
        let reopened = try await ArtifactCache(configuration: .init(root: root), logger: logger)
        #expect(try await reopened.compatibility.rows(forPackage: "github.com/ProxFixture/UpperCase").count == 3)
    }

    @Test func theMemoryTwinAgrees() async throws {
        try await Self.exercise(MemoryCompatibilityStore())
    }
}
