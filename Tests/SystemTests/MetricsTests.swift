import Foundation
import NIOHTTP1
import ProxCommands
import ProxTestSupport
import Testing

/// `/metrics` on a real hub, read by Prometheus's own parser, as builds run.
@Suite(.serialized) struct MetricsTests {
    static let hello = "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0"

    static func scrape(_ hub: LiveHub) async throws -> [String: Double] {
        let page = try await hub.get("/metrics")
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        return try PrometheusText.parse(page.text)
    }

    @Test func countersMoveAsBuildsRunAndHitsAreServed() async throws {
        let hub = try await LiveHub.start()
        let before = try await Self.scrape(hub)
        #expect(before["prox_builds_total{outcome=\"succeeded\"}"] == nil || before["prox_builds_total{outcome=\"succeeded\"}"] == 0)
        #expect(before["prox_cache_entries"] == 0)
        #expect(before["prox_build_queue_depth"] == 0)

        let built = try await hub.get(Self.hello)
        #expect(built.status == 200, "\(built.text)")
        let hit = try await hub.get(Self.hello)
        #expect(hit.header("X-Prox-Cache") == "hit")
        let broken = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com/proxfixture/broken@v0.1.0&version=v2.8.0")
        #expect(broken.status == 422)
        let bad = try await hub.get("/api/download?os=amiga&arch=amd64")
        #expect(bad.status == 400)

        let after = try await Self.scrape(hub)
        #expect(after["prox_builds_total{outcome=\"succeeded\"}"] == 1)
        #expect(after["prox_builds_total{outcome=\"failed\"}"] == 1)
        #expect(after["prox_build_duration_seconds_count{outcome=\"succeeded\"}"] == 1)
        #expect((after["prox_build_duration_seconds_sum{outcome=\"succeeded\"}"] ?? 0) > 0)
        #expect(after["prox_build_queue_wait_seconds_count"] == 2)
        #expect(after["prox_build_slots_busy"] == 0)
        #expect(after["prox_build_slots"] == Double(hub.hub.configuration.simultaneousJobs))
        #expect(after["prox_downloads_total{cache=\"miss\"}"] == 1, "one download built")
        #expect(after["prox_downloads_total{cache=\"hit\"}"] == 1, "one download was a hit")
        #expect(after["prox_build_queue_depth"] == 0)
        #expect((after["prox_cache_lookups_total{result=\"hit\"}"] ?? 0) >= 1)
        #expect((after["prox_cache_lookups_total{result=\"miss\"}"] ?? 0) >= 2)
        #expect(after["prox_cache_commits_total"] == 1)
        #expect(after["prox_cache_committed_bytes_total"] == Double(built.body.count))
        #expect(after["prox_cache_entries"] == 1)
        #expect(after["prox_cache_bytes"] == Double(built.body.count))
        #expect(after["prox_cache_quota_bytes"] == Double(hub.hub.configuration.cacheMaxSize))
        #expect(after["prox_attestations_total"] == 1, "the new artifact was signed")
        // Requests by route and status: the route's pattern, not the path asked for.
        #expect(after["prox_http_requests_total{method=\"GET\",route=\"/api/download\",status=\"200\"}"] == 2)
        #expect(after["prox_http_requests_total{method=\"GET\",route=\"/api/download\",status=\"422\"}"] == 1)
        #expect(after["prox_http_requests_total{method=\"GET\",route=\"/api/download\",status=\"400\"}"] == 1)
        #expect(after.keys.contains { $0.hasPrefix("prox_http_request_duration_seconds_bucket{") })
        await hub.stop()
    }

    @Test func inHubModeTheHubCountsAgentsAndTheAgentCountsItsBuilds() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis)
        var c = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "metered")
        c.metricsPort = 0
        let agent = try await LiveAgent.start(c)
        let port = try #require(agent.metricsPort)
        #expect(try await hub.get(Self.hello).status == 200)

        let own = try await LiveHub.send("http://127.0.0.1:\(port)/metrics", method: .GET, headers: [], body: nil)
        #expect(own.status == 200)
        let agentSamples = try PrometheusText.parse(own.text)
        #expect(agentSamples["prox_builds_total{outcome=\"succeeded\"}"] == 1)
        #expect(agentSamples["prox_build_duration_seconds_count{outcome=\"succeeded\"}"] == 1)
        #expect(agentSamples["prox_build_slots_busy"] == 0)
        #expect(agentSamples["prox_agent_jobs_completed_total"] == 1)

        let hubSamples = try await Self.scrape(hub)
        #expect(hubSamples["prox_agents{state=\"live\"}"] == 1)
        #expect(hubSamples["prox_agent_slots"] == 2)
        // Agents advertise their running builds with each heartbeat: the build's slot frees
        // on the next one.
        #expect(await eventually(timeout: .seconds(30)) { (try? await Self.scrape(hub))?["prox_agent_slots_busy"] == 0 })
        #expect(hubSamples["prox_build_queue_depth"] == 0)
        #expect(hubSamples["prox_cache_commits_total"] == 1, "the agent's push")
        await agent.stop()
        await hub.stop()
    }

    @Test func theBucketsOperationsAreCounted() async throws {
        let s3 = try S3TestServer()
        defer { s3.stop() }
        let hub = try await LiveHub.start(SharedBucketTests.useBucket(s3))
        #expect(try await hub.get(Self.hello).status == 200)
        let after = try await Self.scrape(hub)
        #expect((after["prox_s3_operations_total{operation=\"put\"}"] ?? 0) >= 2, "the binary and its key document")
        #expect((after["prox_s3_operations_total{operation=\"get\"}"] ?? 0) >= 1, "the miss asked the bucket")
        #expect(after["prox_s3_errors_total{operation=\"put\"}"] == 0)
        #expect(after["prox_s3_pending_uploads"] == 0)
        s3.stop()
        _ = try await hub.get("/api/download?os=linux&arch=arm64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        let down = try await Self.scrape(hub)
        #expect((down["prox_s3_errors_total{operation=\"get\"}"] ?? 0) >= 1)
        await hub.stop()
    }
}
