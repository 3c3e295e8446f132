import BuildCore
import Foundation
import ProxCommands
import ProxTestSupport
import Testing

/// Toolchains in hub mode: agents advertise theirs in Redis, the hub plans each build
/// from what the live agents offer, and a job waits only in a queue some agent reads.
@Suite(.serialized) struct ToolchainHubTests {
    static func hub(_ redis: RedisServer, _ paths: Fixture.ToolchainPaths, _ configure: (inout HubConfiguration) -> Void = { _ in }) async throws -> LiveHub {
        try await Cluster.hub(redis: redis) {
            $0.goExecutable = paths.oldGo
            $0.goproxy = paths.goproxy
            $0.packageEndpoint = paths.packageEndpoint
            configure(&$0)
        }
    }

    static func agent(_ redis: RedisServer, _ hub: LiveHub, _ paths: Fixture.ToolchainPaths, name: String, downloads: Bool) async throws -> LiveAgent {
        var c = try Cluster.agentConfiguration(redis: redis, hub: hub, name: name)
        c.goExecutable = paths.oldGo
        c.goproxy = paths.goproxy
        c.toolchainDownload = downloads
        // A Go cache of its own: the toolchain download is part of what is tested.
        return try await LiveAgent.start(c, sharedGoCache: false)
    }

    /// Waits until the hub sees `name` as a live agent; returns its advertisement.
    static func liveAgent(_ hub: LiveHub, _ name: String) async throws -> [String: Any] {
        var found: [String: Any]?
        _ = await eventually(timeout: .seconds(30)) {
            let agents = (try? await hub.get("/api/agents").json()["result"] as? [[String: Any]]) ?? []
            found = agents.first { $0["name"] as? String == name && $0["live"] as? Bool == true }
            return found != nil
        }
        return try #require(found, "agent \(name) never advertised itself")
    }

    @Test("an agent with only go1.22 locally, allowed to download, builds the release that needs go1.23")
    func agentDownloadsTheToolchain() async throws {
        let paths = try Fixture.toolchainPaths()
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Self.hub(redis, paths)
        let agent = try await Self.agent(redis, hub, paths, name: "downloader", downloads: true)
        let advertised = try await Self.liveAgent(hub, "downloader")
        #expect(advertised["toolchains"] as? [String] == [paths.oldVersion])
        #expect(advertised["downloads_allowed"] as? Bool == true)
        #expect(advertised["downloadable"] as? [String] == [paths.newVersion])
        let offered = try await hub.get("/api/toolchains").json()["result"] as? [String: Any]
        #expect(offered?["downloadable"] as? [String] == [paths.newVersion], "the hub offers what its live agents offer")

        let reply = try await hub.get("/api/download?os=linux&arch=amd64")
        #expect(reply.status == 200, "\(reply.text.prefix(2000))")
        #expect(reply.header("X-Prox-Go-Version") == paths.newVersion)
        #expect(try ToolchainTests.builtWith(reply.body, go: paths.oldGo) == paths.newVersion)
        let id = try #require(reply.header("X-Prox-Build-Id"))
        let log = try await BuildLogTests.readEvents(hub, "/api/builds/\(id)/logs").raw
        #expect(log.contains("downloading \(paths.newVersion)"), "\(log.prefix(3000))")
        let record = try await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any]
        #expect(record?["worker"] as? String == "downloader")
        await agent.stop()
        await hub.stop()
        ToolchainTests.removeModuleCache(agent.agent.configuration.workDirectory)
    }

    @Test("a hub whose only agent may not download fails a build that needs go1.23 at once, naming it; go1.22 builds still run")
    func noAgentCanServeFailsFast() async throws {
        let paths = try Fixture.toolchainPaths()
        let redis = try RedisServer()
        defer { redis.stop() }
        // A hub host without Go: it plans from its live agents only.
        let hub = try await Self.hub(redis, paths) { $0.goExecutable = "/nonexistent/prox/go" }
        let agent = try await Self.agent(redis, hub, paths, name: "local-only", downloads: false)
        _ = try await Self.liveAgent(hub, "local-only")

        let started = ContinuousClock.now
        let refused = try await hub.get("/api/download?os=linux&arch=amd64")
        #expect(ContinuousClock.now - started < .seconds(10), "refused fast, not after waiting in a queue")
        #expect(refused.status == 422, "\(refused.text)")
        let message = (try refused.json()["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("needs go >= 1.23.0"), "\(message)")
        #expect(message.contains(paths.oldVersion), "\(message)")
        #expect(message.contains("--toolchain-download"), "\(message)")

        let ok = try await hub.get("/api/download?os=linux&arch=amd64&version=v2.6.2")
        #expect(ok.status == 200, "\(ok.text.prefix(2000))")
        #expect(ok.header("X-Prox-Go-Version") == paths.oldVersion)
        await agent.stop()
        await hub.stop()
    }
}
