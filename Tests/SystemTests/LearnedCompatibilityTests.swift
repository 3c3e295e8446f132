import BuildCore
import Foundation
import NIOHTTP1
import ProxTestSupport
import Testing

/// Compatibility learned from real builds (issue 15): the fixture's `broken` plugin
/// (v0.1.0 does not compile, v0.0.9 does) built with the real go command, then the plan
/// warns before a second try and suggests v0.0.9; the records live in SQLite and survive
/// a restart standalone, and in Redis in hub mode, where the agent records and every hub reads.
@Suite(.serialized) struct LearnedCompatibilityTests {
    static func get(_ hub: some HubClient, _ path: String) async throws -> LiveHub.Reply {
        try await hub.request(path, method: .GET, headers: [], body: nil)
    }

    static let broken = "github.com/proxfixture/broken"
    static let plan = "/api/download/plan?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fbroken&version=v2.8.4"

    static func planResult(_ hub: some HubClient) async throws -> [String: Any] {
        let reply = try await get(hub, Self.plan)
        #expect(reply.status == 200)
        return try #require(try reply.json()["result"] as? [String: Any])
    }

    /// Builds v0.0.9 (succeeds) and v0.1.0 (fails), then checks the plan's warning and suggestion.
    static func learnAndCheck(_ hub: some HubClient) async throws {
        let before = try await planResult(hub)
        #expect((before["compatibility"] as? [Any])?.isEmpty == true, "nothing known yet")
        #expect(before["cached"] as? Bool == false)
        // The toolchain is named, with why it was chosen (the fixture's go.mod files need go 1.21).
        #expect((before["go_version"] as? String)?.hasPrefix("go1.") == true)
        let toolchain = try #require(before["toolchain"] as? [String: Any], "\(before)")
        #expect(toolchain["version"] as? String == before["go_version"] as? String)
        #expect((toolchain["reason"] as? String)?.isEmpty == false)
        let good = try await get(hub, "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/broken@v0.0.9&version=v2.8.4")
        #expect(good.status == 200)
        let pinned = try #require(try await get(hub, Self.plan.replacingOccurrences(of: "broken&", with: "broken%40v0.0.9&")).json()["result"] as? [String: Any])
        #expect(pinned["cached"] as? Bool == true)
        #expect((pinned["artifact"] as? [String: Any])?["sha256"] as? String == good.sha256)
        let bad = try await get(hub, "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/broken&version=v2.8.4")
        #expect(bad.status == 422)
        try await checkWarned(hub)
    }

    static func checkWarned(_ hub: some HubClient) async throws {
        let plan = try await planResult(hub)
        let known = try #require((plan["compatibility"] as? [[String: Any]])?.first, "\(plan)")
        #expect(known["version"] as? String == "v0.1.0")
        #expect(known["failed"] as? Int == 1)
        #expect(known["suggestion"] as? String == "v0.0.9")
        let warning = try #require((plan["warnings"] as? [String])?.first)
        #expect(warning.hasPrefix("github.com/proxfixture/broken v0.1.0 failed with Caddy v2.8.4 on 1 of 1 build: broken.go:"), "\(warning)")
        #expect(warning.contains("cannot use \"this does not compile\""), "the compiler's own line: \(warning)")
        let listing = try #require(try await get(hub, "/api/packages/github.com/proxfixture/broken/compatibility").json()["result"] as? [String: Any])
        let versions = try #require(listing["versions"] as? [[String: Any]])
        #expect(versions.map { $0["version"] as? String } == ["v0.1.0", "v0.0.9"])
        #expect(versions.map { $0["succeeded"] as? Int } == [0, 1])
        let packages = try #require(try await get(hub, "/api/packages").json()["result"] as? [[String: Any]])
        let last = try #require(packages.first { $0["path"] as? String == broken }?["last_build"] as? [String: Any])
        #expect(last["succeeded"] as? Bool == false)
        #expect(last["version"] as? String == "v0.1.0")
    }

    @Test func standaloneLearnsFromTheGoCommandAndRemembersAcrossARestart() async throws {
        let data = Fixture.temporaryDirectory("prox-compat")
        let hub = try await LiveHub.start(dataDirectory: data)
        try await Self.learnAndCheck(hub)
        await hub.stop()
        let again = try await LiveHub.start(dataDirectory: data)
        defer { Task { await again.stop() } }
        try await Self.checkWarned(again)
        #expect(await again.buildsStarted == 0, "known from the index, not rebuilt")
    }

    @Test func inHubModeTheAgentRecordsAndEveryHubReads() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let first = try await Cluster.hub(redis: redis)
        let second = try await Cluster.hub(redis: redis)
        let agent = try await LiveAgent.start(try Cluster.agentConfiguration(redis: redis, hub: first, name: "compat-agent"))
        try await Self.learnAndCheck(first)
        try await Self.checkWarned(second)
        await agent.stop()
        await second.stop()
        await first.stop()
    }
}
