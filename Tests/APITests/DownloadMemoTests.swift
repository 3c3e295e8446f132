import BuildCore
import Foundation
import HTTPFront
import Hummingbird
import HummingbirdTesting
import ProxTesting
import Testing

/// The hot path of repeated downloads: what is remembered, for how long, and that it never
/// serves what the cache no longer holds.
@Suite struct DownloadMemoTests {
    static func build(_ n: Int) throws -> ResolvedBuild {
        ResolvedBuild(
            platform: try Platform(os: "linux", arch: "amd64", arm: nil), caddyVersion: try #require(SemanticVersion("v2.8.\(n)")), plugins: [],
            settings: BuildSettings(goVersion: "go1.23.5"))
    }

    @Test func entriesLiveForTheTTLAndTheOldestHalfGoesWhenFull() throws {
        let memo = DownloadMemo(ttl: .seconds(300), capacity: 4)
        let start = ContinuousClock.now
        for n in 0..<4 { memo.remember(try Self.build(n), for: "q\(n)"[...], now: start) }
        #expect(memo.build(for: "q0", now: start + .seconds(299)) == (try Self.build(0)))
        #expect(memo.build(for: "q0", now: start + .seconds(301)) == nil, "expired with the resolver's answers")
        #expect(memo.build(for: "q9", now: start) == nil)
        memo.remember(try Self.build(4), for: "q4", now: start)  // takes the expired q0's place
        #expect(memo.count == 4)
        memo.remember(try Self.build(5), for: "q5", now: start)  // full: the older half goes
        #expect(memo.count == 3)
        #expect(memo.build(for: "q1", now: start) == nil)
        #expect(memo.build(for: "q3", now: start) == (try Self.build(3)))
        #expect(memo.build(for: "q5", now: start) == (try Self.build(5)))
        let off = DownloadMemo(ttl: .zero)
        off.remember(try Self.build(0), for: "q0", now: start)
        #expect(off.count == 0, "--resolve-ttl 0 remembers nothing")
    }

    @Test func aRepeatedQueryIsRememberedButAnEvictedArtifactIsBuiltAgain() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            let first = try await client.execute(uri: DownloadRouteTests.query, method: .get)
            #expect(first.status == .ok)
            #expect(api.api.downloadMemo.count == 1)
            let hit = try await client.execute(uri: DownloadRouteTests.query, method: .head)
            #expect(hit.headers[.init("X-Prox-Cache")!] == "hit")
            // The memo holds the resolution, not the artifact: once removed, it is built again.
            let key = try #require(api.runner.builds.first).cacheKey
            #expect(try await api.store.remove(key))
            let again = try await client.execute(uri: DownloadRouteTests.query, method: .get)
            #expect(again.status == .ok)
            #expect(again.headers[.init("X-Prox-Cache")!] == "miss")
            // Requests naming their build are not remembered; failures neither.
            _ = try await client.execute(uri: DownloadRouteTests.query + "&job_id=memo-test-1", method: .get)
            let bad = try await client.execute(uri: "/api/download?os=linux&arch=amd64&version=v9.9.9", method: .get)
            #expect(bad.status == .badRequest)
            #expect(api.api.downloadMemo.count == 1)
        }
        #expect(api.runner.builds.count == 2)
    }
}
