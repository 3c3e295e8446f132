import BuildCore
import Foundation
import HTTPFront
import NIOHTTP1
import ProxCommands
import ProxTestSupport
import Testing

/// Admission control and per-client limits on a live proxhub (issue 11). Every test client
/// is 127.0.0.1, so the hub trusts it as a proxy and clients are told apart by
/// `X-Forwarded-For`, as behind a real reverse proxy.
@Suite struct ClientLimitTests {
    static let proxy = [AddressRange("127.0.0.1")!]

    static func from(_ address: String) -> [(String, String)] { [("X-Forwarded-For", "198.51.100.99, \(address)")] }

    static func build(os: String = "linux", arch: String) -> String {
        #"{"os": "\#(os)", "arch": "\#(arch)", "packages": ["github.com/proxfixture/hello@v0.2.0"], "version": "v2.8.0"}"#
    }

    static func submit(_ hub: LiveHub, _ body: String, from address: String) async throws -> LiveHub.Reply {
        try await hub.request("/api/builds", method: .POST, headers: from(address), body: body)
    }

    static func expectRefusal(_ reply: LiveHub.Reply, status: Int, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(reply.status == status, "\(reply.text)", sourceLocation: sourceLocation)
        let retryAfter = reply.header("Retry-After").flatMap(Int.init)
        #expect((retryAfter ?? 0) > 0, "Retry-After: \(reply.header("Retry-After") ?? "none")", sourceLocation: sourceLocation)
        let json = try reply.json()
        #expect(json["status_code"] as? Int == status, sourceLocation: sourceLocation)
        let message = (json["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains(mentions), "\(message)", sourceLocation: sourceLocation)
    }

    static func waitSucceeded(_ hub: LiveHub, _ reply: LiveHub.Reply) async throws -> String {
        let id = try #require((try reply.json()["result"] as? [String: Any])?["id"] as? String, "\(reply.text)")
        let artifact = try await hub.get("/api/builds/\(id)/artifact")
        #expect(artifact.status == 200, "\(artifact.text)")
        return id
    }

    @Test func aClientOverItsBuildRateGets429WhileOthersStillBuildAndEveryoneGetsHits() async throws {
        let hub = try await LiveHub.start { c in
            c.trustedProxies = Self.proxy
            c.buildLimits.clientBuildRate = Rate(2, per: .seconds(3600))
        }
        defer { Task { await hub.stop() } }
        let first = try await Self.submit(hub, Self.build(arch: "amd64"), from: "203.0.113.1")
        #expect(first.status == 202)
        #expect(try await Self.submit(hub, Self.build(arch: "arm64"), from: "203.0.113.1").status == 202)
        let third = try await Self.submit(hub, Self.build(arch: "386"), from: "203.0.113.1")
        try Self.expectRefusal(third, status: 429, mentions: "--client-build-rate 2/h")
        #expect(try third.json().description.contains("203.0.113.1"))
        #expect((third.header("Retry-After").flatMap(Int.init) ?? 0) > 3000, "about an hour")

        // Another client builds that very key; then the first may join nothing new but gets hits.
        let other = try await Self.submit(hub, Self.build(arch: "386"), from: "203.0.113.2")
        #expect(other.status == 202, "\(other.text)")
        _ = try await Self.waitSucceeded(hub, first)
        _ = try await Self.waitSucceeded(hub, other)
        let hit = try await hub.get("/api/download?os=linux&arch=386&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0", headers: Self.from("203.0.113.1"))
        #expect(hit.status == 200)
        #expect(hit.header("X-Prox-Cache") == "hit")
        // A new key for the first client is still refused.
        try Self.expectRefusal(
            try await Self.submit(hub, Self.build(os: "windows", arch: "amd64"), from: "203.0.113.1"), status: 429, mentions: "--client-build-rate"
        )
    }

    @Test func joiningABuildInFlightIsNeverRefused() async throws {
        let hub = try await LiveHub.start(goExecutable: try slowGo(seconds: 3)) { c in
            c.trustedProxies = Self.proxy
            c.buildLimits.clientBuildRate = Rate(1, per: .seconds(3600))
            c.buildLimits.clientConcurrent = 1
            c.buildLimits.maxQueued = 1
            c.simultaneousJobs = 1
        }
        defer { Task { await hub.stop() } }
        // Client 1 uses up everything: its rate, its concurrency, the one slot.
        let running = try await Self.submit(hub, Self.build(arch: "amd64"), from: "203.0.113.1")
        #expect(running.status == 202)
        // Client 2's new build fills the queue; client 3's new build finds it full.
        let queued = try await Self.submit(hub, Self.build(arch: "arm64"), from: "203.0.113.2")
        #expect(queued.status == 202)
        try Self.expectRefusal(try await Self.submit(hub, Self.build(arch: "386"), from: "203.0.113.3"), status: 503, mentions: "--max-queued-builds 1")
        // Yet client 1 and client 3 may join both builds in flight.
        #expect(try await Self.submit(hub, Self.build(arch: "arm64"), from: "203.0.113.1").status == 202)
        #expect(try await Self.submit(hub, Self.build(arch: "amd64"), from: "203.0.113.3").status == 202)
        // Anything new is still refused: the queue is checked first.
        try Self.expectRefusal(try await Self.submit(hub, Self.build(arch: "386"), from: "203.0.113.1"), status: 503, mentions: "queue is full")
        // The queue recovers once builds finish.
        _ = try await Self.waitSucceeded(hub, running)
        _ = try await Self.waitSucceeded(hub, queued)
        let later = try await Self.submit(hub, Self.build(arch: "386"), from: "203.0.113.3")
        #expect(later.status == 202, "\(later.text)")
        _ = try await Self.waitSucceeded(hub, later)
    }

    @Test func aClientOverItsConcurrencyWaitsForItsBuildToFinish() async throws {
        let hub = try await LiveHub.start(goExecutable: try slowGo(seconds: 2)) { c in
            c.trustedProxies = Self.proxy
            c.buildLimits.clientConcurrent = 1
        }
        defer { Task { await hub.stop() } }
        let first = try await Self.submit(hub, Self.build(arch: "amd64"), from: "2001:db8:1:2::10")
        #expect(first.status == 202)
        // Another address of the same IPv6 /64 is the same client.
        try Self.expectRefusal(
            try await Self.submit(hub, Self.build(arch: "arm64"), from: "2001:db8:1:2::99"), status: 429, mentions: "--client-concurrent-builds 1"
        )
        #expect(try await Self.submit(hub, Self.build(arch: "arm64"), from: "2001:db8:1:3::10").status == 202, "another /64")
        _ = try await Self.waitSucceeded(hub, first)
        #expect(try await Self.submit(hub, Self.build(arch: "386"), from: "2001:db8:1:2::99").status == 202)
    }

    @Test func theRequestRateCountsHitsPerClientAndLeavesHealthOpen() async throws {
        let hub = try await LiveHub.start { c in
            c.trustedProxies = Self.proxy
            c.clientRequestRate = Rate(5, per: .seconds(3600))
        }
        defer { Task { await hub.stop() } }
        for _ in 0..<5 { #expect(try await hub.get("/api/platforms", headers: Self.from("203.0.113.7")).status == 200) }
        let over = try await hub.get("/api/platforms", headers: Self.from("203.0.113.7"))
        try Self.expectRefusal(over, status: 429, mentions: "--client-request-rate")
        #expect((over.header("Retry-After").flatMap(Int.init) ?? 9999) <= 3600)
        #expect(try await hub.get("/api/platforms", headers: Self.from("203.0.113.8")).status == 200, "another client")
        #expect(try await hub.get("/healthz", headers: Self.from("203.0.113.7")).status == 200, "health is not counted")
    }

    @Test func forwardedForIsIgnoredFromAnUntrustedPeer() async throws {
        let hub = try await LiveHub.start { c in
            c.clientRequestRate = Rate(3, per: .seconds(60))
        }
        defer { Task { await hub.stop() } }
        // Without --trusted-proxies, the header is the client's own claim: every request is 127.0.0.1.
        for address in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
            #expect(try await hub.get("/api/platforms", headers: Self.from(address)).status == 200)
        }
        let over = try await hub.get("/api/platforms", headers: Self.from("203.0.113.4"))
        try Self.expectRefusal(over, status: 429, mentions: "127.0.0.1")
    }

    @Test func twoHubsShareOneClientsLimitsThroughRedis() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let configure: (inout HubConfiguration) -> Void = { c in
            c.trustedProxies = Self.proxy
            c.buildLimits.clientBuildRate = Rate(2, per: .seconds(3600))
            // Per hour: Redis's windows are fixed to the clock, and a minute's end could fall
            // between two of this test's requests.
            c.clientRequestRate = Rate(8, per: .seconds(3600))
        }
        let a = try await Cluster.hub(redis: redis, configure)
        let b = try await Cluster.hub(redis: redis, configure)
        // No agent: builds stay queued, which is all the limits need.
        #expect(try await Self.submit(a, Self.build(arch: "amd64"), from: "203.0.113.1").status == 202)
        #expect(try await Self.submit(b, Self.build(arch: "arm64"), from: "203.0.113.1").status == 202)
        try Self.expectRefusal(try await Self.submit(a, Self.build(arch: "386"), from: "203.0.113.1"), status: 429, mentions: "--client-build-rate 2/h")
        try Self.expectRefusal(try await Self.submit(b, Self.build(arch: "386"), from: "203.0.113.1"), status: 429, mentions: "--client-build-rate 2/h")
        #expect(try await Self.submit(b, Self.build(arch: "386"), from: "203.0.113.2").status == 202)
        // Joining client 1's queued build through the other hub is not a new build.
        #expect(try await Self.submit(a, Self.build(arch: "arm64"), from: "203.0.113.1").status == 202)
        // The request rate is shared too: client 9 sends 4 requests to each hub, then is over.
        for hub in [a, b] {
            for _ in 0..<4 { #expect(try await hub.get("/api/platforms", headers: Self.from("203.0.113.9")).status == 200) }
        }
        try Self.expectRefusal(try await a.get("/api/platforms", headers: Self.from("203.0.113.9")), status: 429, mentions: "--client-request-rate")
        try Self.expectRefusal(try await b.get("/api/platforms", headers: Self.from("203.0.113.9")), status: 429, mentions: "--client-request-rate")
        await a.stop()
        await b.stop()
    }

    @Test func theQueueBoundHoldsInHubModeAndRecovers() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis) { c in c.buildLimits.maxQueued = 2 }
        #expect(try await hub.request("/api/builds", method: .POST, body: Self.build(arch: "amd64")).status == 202)
        #expect(try await hub.request("/api/builds", method: .POST, body: Self.build(arch: "arm64")).status == 202)
        let full = try await hub.request("/api/builds", method: .POST, body: Self.build(arch: "386"))
        try Self.expectRefusal(full, status: 503, mentions: "--max-queued-builds 2")
        // Hits and joins still work; an agent drains the queue and new builds are taken again.
        #expect(try await hub.request("/api/builds", method: .POST, body: Self.build(arch: "amd64")).status == 202)
        let agent = try await LiveAgent.start(try Cluster.agentConfiguration(redis: redis, hub: hub, name: "drain"))
        let drained = await eventually(timeout: .seconds(120)) {
            (try? await hub.request("/api/builds", method: .POST, body: Self.build(arch: "386")).status) == 202
        }
        #expect(drained)
        await agent.stop()
        await hub.stop()
    }
}
