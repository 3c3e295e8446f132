import AsyncHTTPClient
import BuildCore
import CacheStore
import Crypto
import Foundation
import HTTPFront
import Logging
import NIOHTTP1
import Provenance
import ProxCommands
import ProxTestSupport
import QueueRedis
import Testing

/// Hub mode end to end: real redis-server, real hubs and agents (in this process or as
/// `proxhub`/`proxagent` processes), real Go builds from the fixture module proxy.
@Suite(.serialized) struct DistributedTests {
    static let platforms: [(os: String, arch: String, arm: Int?)] = [
        ("linux", "amd64", nil), ("linux", "arm64", nil), ("linux", "arm", 5), ("linux", "arm", 6),
        ("linux", "arm", 7), ("windows", "amd64", nil), ("darwin", "arm64", nil), ("freebsd", "amd64", nil),
    ]

    @Test func eightBuildsOnTwoAgentsAllSucceedInQueueOrder() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis)
        // Slow enough that eight jobs wait for four slots.
        var ca = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "agent-a")
        ca.goExecutable = try slowGo(seconds: 1)
        var cb = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "agent-b")
        cb.goExecutable = ca.goExecutable
        // Not a test of reclaiming: the production lease, so that a heartbeat delayed by the
        // other suites' load on a 2-core machine does not hand a running job to the other
        // agent (a re-run restarts the job's clock and breaks the order checked below).
        ca.jobLease = .seconds(30)
        cb.jobLease = .seconds(30)
        // Eight targets' standard libraries compiled cold by each agent, while the other
        // suites build too, can take minutes on a fresh 2-core machine: the agents share the
        // tests' build cache, and each build may take up to 7 minutes (what is checked here
        // is that all succeed, on both agents, in queue order; not how fast).
        try shareBuildCache(ca.workDirectory)
        try shareBuildCache(cb.workDirectory)
        let a = try await LiveAgent.start(ca)
        let b = try await LiveAgent.start(cb)

        var ids: [String] = []
        for p in Self.platforms {
            ids.append(try await submit(hub, os: p.os, arch: p.arch, arm: p.arm, packages: ["github.com/proxfixture/hello@v0.2.0"]))
        }
        let records = try await ids.asyncMap { try await waitFinished(hub, $0, timeout: .seconds(420)) }
        for (id, record) in zip(ids, records) {
            #expect(record["state"] as? String == "succeeded", "build \(id): \(record)")
            let artifact = try await hub.get("/api/builds/\(id)/artifact")
            #expect(artifact.status == 200)
            #expect(artifact.sha256 == (record["artifact"] as? [String: Any])?["sha256"] as? String)
            // The agent pushed; the hub signed, naming the agent as the builder.
            let envelope = try JSONDecoder.prox.decode(DSSEEnvelope.self, from: Data(try await hub.get("/api/builds/\(id)/provenance").body))
            let payload = try #require(envelope.verifiedPayload(keys: [hub.hub.signer.key.publicKey]), "build \(id): signed by the hub's key")
            let statement = try JSONDecoder.prox.decode(ProvenanceStatement.self, from: Data(payload))
            #expect(statement.subject.first?.digest?["sha256"] == artifact.sha256)
            #expect(statement.predicate.runDetails.builder.id == "urn:prox:builder:proxagent/\(record["worker"] as? String ?? "?")")
            #expect(statement.predicate.runDetails.metadata.invocationId == id)
        }
        #expect(Set(records.compactMap { $0["worker"] as? String }) == ["agent-a", "agent-b"], "both agents worked")

        // First in, first out: each build started no earlier than those queued before it
        // (start times from Redis, in ms; a little slack for two agents taking jobs at once).
        let client = RedisClient(configuration: .init(host: "127.0.0.1", port: redis.port), connections: 1, name: "test", logger: Logger(label: "test"))
        var started: [Int64] = []
        for id in ids { started.append(try #require(try await client.send(["HGET", "prox:build:\(id)", "started"]).int)) }
        var attempts: [Int64] = []
        for id in ids { attempts.append(try #require(try await client.send(["HGET", "prox:build:\(id)", "attempts"]).int)) }
        #expect(attempts.allSatisfy { $0 == 1 }, "each job started once: \(attempts)")
        for i in started.indices {
            for j in started.indices where j > i {
                #expect(started[i] <= started[j] + 300, "build \(i + 1) started after build \(j + 1): \(started)")
            }
        }
        #expect(a.agent.worker.completedJobs + b.agent.worker.completedJobs == 8)
        await client.close()
        await a.stop()
        await b.stop()
        await hub.stop()

        // The same request built by a standalone proxhub, in its own directories with its own
        // Go caches, gives the bytes the agent built: builds are reproducible across hosts'
        // directories and caches.
        let standalone = try await LiveHub.start(goCacheRoot: Fixture.temporaryDirectory("prox-own-go-caches"))
        let same = try await standalone.get("/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(same.status == 200)
        #expect(same.header("X-Prox-Cache-Key") == records[0]["key"] as? String, "the same request: the same cache key")
        #expect(same.header("X-Prox-Cache") == "miss", "built here, not fetched")
        #expect(same.sha256 == (records[0]["artifact"] as? [String: Any])?["sha256"] as? String, "agent \(records[0]["worker"] ?? "?") and standalone built the same bytes")
        await standalone.stop()
    }

    /// Cache warming in hub mode: the server's own builds (no client) wait in a stream of
    /// their own, which agents read only when no user's build waits. Queued first, the warm
    /// build still starts after the two users' builds queued after it.
    @Test func usersBuildsStartBeforeTheServersOwnWarmBuilds() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis)
        let warm = try ResolvedBuild(
            platform: Platform(os: "linux", arch: "amd64", arm: nil), caddyVersion: try #require(SemanticVersion("v2.8.0")), plugins: [],
            settings: BuildSettings(goVersion: Fixture.goVersion))
        let background = try await hub.hub.builds.submit(warm, requestedID: nil, client: nil)
        let users = [
            try await submit(hub, os: "linux", arch: "amd64", arm: nil, packages: ["github.com/proxfixture/hello@v0.2.0"]),
            try await submit(hub, os: "linux", arch: "arm64", arm: nil, packages: ["github.com/proxfixture/hello@v0.2.0"]),
        ]
        let client = RedisClient(configuration: .init(host: "127.0.0.1", port: redis.port), connections: 1, name: "test", logger: Logger(label: "test"))
        #expect(try await client.send(["XLEN", "prox:jobs:\(Fixture.goVersion):background"]).int == 1)
        #expect(try await client.send(["XLEN", "prox:jobs:\(Fixture.goVersion)"]).int == 2)

        var c = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "one-slot", slots: 1)
        c.jobLease = .seconds(30)
        try shareBuildCache(c.workDirectory)
        let agent = try await LiveAgent.start(c)
        let ids = users + [background.id.rawValue]
        for id in ids {
            let record = try await waitFinished(hub, id, timeout: .seconds(420))
            #expect(record["state"] as? String == "succeeded", "build \(id): \(record)")
        }
        var started: [Int64] = []
        for id in ids { started.append(try #require(try await client.send(["HGET", "prox:build:\(id)", "started"]).int)) }
        #expect(started[0] <= started[1] && started[1] <= started[2], "users' builds in queue order, then the warm one: \(started)")
        #expect(agent.agent.worker.completedJobs == 3)
        await client.close()
        await agent.stop()
        await hub.stop()
    }

    @Test func theHubRebuildsWhatAnAgentPushedAndFindsTheSameBytes() async throws {
        // --verify-rebuilds in hub mode: the hub, another host than the agent, rebuilds with
        // its own go command in a new directory with empty Go caches.
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis) { $0.verifyRebuilds = 1 }
        let agent = try await LiveAgent.start(try Cluster.agentConfiguration(redis: redis, hub: hub, name: "builder"))
        let download = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.1.0&version=v2.8.0")
        #expect(download.status == 200)
        let key = try #require(download.header("X-Prox-Cache-Key"))
        let verifier = try #require(hub.hub.signer.verifier, "the hub has a go command: it verifies")
        await verifier.idle()
        let info = try #require(try await hub.get("/api/artifacts/\(key)").json()["result"] as? [String: Any])
        let reproduction = try #require(info["reproduction"] as? [String: Any], "\(info)")
        #expect(reproduction["state"] as? String == "reproduced", "\(reproduction)")
        #expect(reproduction["rebuild_sha256"] as? String == download.sha256)
        let envelope = try JSONDecoder.prox.decode(DSSEEnvelope.self, from: Data(try await hub.get("/api/artifacts/\(key)/provenance").body))
        let statement = try JSONDecoder.prox.decode(ProvenanceStatement.self, from: Data(try #require(envelope.verifiedPayload(keys: hub.hub.signer.publicKeys))))
        #expect(statement.predicate.runDetails.builder.id == "urn:prox:builder:proxagent/builder", "the agent built it; the hub checked it")
        await agent.stop()
        await hub.stop()
    }

    @Test func aKilledAgentsJobIsReclaimedAndTheWaitingClientGetsTheBinary() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        // The plugin's zip arrives slowly: the build is mid-way for a few seconds.
        let proxy = try ModuleProxyServer(delayZip: ["proxfixture/hello/@v/v0.1.0.zip": .seconds(6)])
        defer { proxy.stop() }
        let hub = try await Cluster.hub(redis: redis) { $0.goproxy = proxy.goproxy }
        var doomed = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "doomed")
        doomed.goproxy = proxy.goproxy
        doomed.jobLease = .seconds(2)
        try shareBuildCache(doomed.workDirectory)  // its own module cache (so the zip is fetched), a warm build cache
        let process = try ServerProcess("proxagent", Cluster.agentArguments(doomed))
        defer { process.kill() }

        let path = "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.1.0&version=v2.8.0"
        let download = Task { try await hub.get(path) }
        let id = try await waitForBuild(hub) { $0["worker"] as? String == "doomed" && $0["state"] as? String == "running" }
        try await Task.sleep(for: .seconds(1))
        process.kill()

        var rescuer = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "rescuer")
        rescuer.goproxy = proxy.goproxy
        rescuer.jobLease = .seconds(2)
        try shareBuildCache(rescuer.workDirectory)
        let agent = try await LiveAgent.start(rescuer, sharedGoCache: false)

        let reply = try await download.value
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.header("X-Prox-Build-Id") == id)
        let binary = try writeExecutable(reply.body)
        #expect(try runProgram(binary, ["list-modules"]).contains("http.handlers.hello"))

        let record = try #require(try await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any])
        #expect(record["worker"] as? String == "rescuer")
        #expect(record["attempts"] as? Int == 2)
        let log = try await BuildLogTests.readEvents(hub, "/api/builds/\(id)/logs").0.map(\.data).joined(separator: "\n")
        #expect(log.contains("agent doomed stopped responding"))
        #expect(try await hub.hub.cache.entries().count == 1, "one cache entry")
        await agent.stop()
        await hub.stop()
    }

    @Test func aHubKilledMidBuildComesBackWithTheBuildItsLogAndItsArtifact() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let port = try Loopback.freePort()
        let data = Fixture.temporaryDirectory("prox-hub-process")
        var hubProcess = try ServerProcess("proxhub", try Cluster.hubArguments(redis: redis, port: port, dataDirectory: data))
        defer { hubProcess.kill() }
        let remote = RemoteHub(port: port)
        try await remote.waitUntilUp()

        var c = try Cluster.agentConfiguration(redis: redis, hub: remote, name: "survivor")
        c.goExecutable = try slowGo(seconds: 4)
        let agent = try await LiveAgent.start(c)

        let submitted = try await remote.request(
            "/api/builds", method: .POST, body: #"{"os": "linux", "arch": "riscv64", "packages": ["github.com/proxfixture/hello@v0.2.0"], "version": "v2.8.0"}"#
        )
        let id = try #require((try submitted.json()["result"] as? [String: Any])?["id"] as? String, "\(submitted.text)")
        #expect(try await eventually(timeout: .seconds(60)) {
            (try? await remote.get("/api/builds/\(id)").json()["result"] as? [String: Any])?["state"] as? String == "running"
        })
        hubProcess.kill()
        try await Task.sleep(for: .seconds(2))
        hubProcess = try ServerProcess("proxhub", try Cluster.hubArguments(redis: redis, port: port, dataDirectory: data))
        try await remote.waitUntilUp()

        let record = try await waitFinished(remote, id)
        #expect(record["state"] as? String == "succeeded", "\(record)")
        let (events, _) = try await BuildLogTests.readEvents(remote, "/api/builds/\(id)/logs")
        let seqs = events.filter { $0.event == "log" }.compactMap(\.id)
        #expect(seqs.first == 1 && seqs == Array(1...seqs.count), "the log replays whole from line one")
        #expect(events.contains { $0.data.contains("build succeeded") })
        let artifact = try await remote.get("/api/builds/\(id)/artifact")
        #expect(artifact.status == 200)
        #expect(artifact.header("X-Prox-Cache") == "miss")
        #expect(artifact.sha256 == (record["artifact"] as? [String: Any])?["sha256"] as? String)
        await agent.stop()
    }

    @Test func queuedJobsSurviveARedisRestart() async throws {
        let redis = try RedisServer(persistent: true)
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis)
        var c = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "steady", slots: 1)
        c.goExecutable = try slowGo(seconds: 2)
        let agent = try await LiveAgent.start(c)
        var ids: [String] = []
        for p in Self.platforms.prefix(3) {
            ids.append(try await submit(hub, os: p.os, arch: p.arch, arm: p.arm, packages: ["github.com/ProxFixture/UpperCase"]))
        }
        #expect(try await eventually(timeout: .seconds(60)) {
            (try? await hub.get("/api/builds/\(ids[0])").json()["result"] as? [String: Any])?["state"] as? String == "running"
        })
        try redis.restart()
        for id in ids {
            let record = try await waitFinished(hub, id, tolerateOutage: true)
            #expect(record["state"] as? String == "succeeded", "\(id): \(record)")
        }
        #expect(agent.agent.worker.completedJobs == 3)
        await agent.stop()
        await hub.stop()
    }

    /// Issue 11, defect 5: a Redis without persistence restarted mid-build loses the build.
    /// The waiting download gets a retryable 503 (not 404), and the log stream ends with a
    /// result event saying the build was lost.
    @Test func aBuildLostWithRedisStateIsA503AndALostResult() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis)
        var c = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "forgetful", slots: 1)
        c.goExecutable = try slowGo(seconds: 6)
        let agent = try await LiveAgent.start(c)
        let id = try await submit(hub, os: "linux", arch: "arm64", arm: nil, packages: ["github.com/ProxFixture/UpperCase"])
        #expect(try await eventually(timeout: .seconds(60)) {
            (try? await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any])?["state"] as? String == "running"
        })
        async let download = hub.get("/api/builds/\(id)/artifact")
        async let stream = hub.get("/api/builds/\(id)/logs")
        try await Task.sleep(for: .milliseconds(500))
        try redis.restart()  // no persistence: every key is gone

        let waited = try await download
        #expect(waited.status == 503, "\(waited.text)")
        #expect((waited.header("Retry-After").flatMap(Int.init) ?? 0) > 0)
        let error = try #require(try waited.json()["error"] as? [String: Any])
        #expect((error["message"] as? String)?.contains("was lost") == true, "\(error)")
        let events = try await stream.text
        let result = try #require(events.components(separatedBy: "event: result\ndata: ").last?.split(separator: "\n").first, "\(events.suffix(500))")
        let final = try #require(try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])
        #expect(final["state"] as? String == "lost")
        #expect(((final["error"] as? [String: Any])?["message"] as? String)?.contains("request the build again") == true)
        await agent.stop()
        await hub.stop()
    }

    @Test func twoHubsGivenTheSameRequestAtOnceRunOneBuild() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let first = try await Cluster.hub(redis: redis)
        let second = try await Cluster.hub(redis: redis)
        var c = try Cluster.agentConfiguration(redis: redis, hub: first, name: "only")
        c.goExecutable = try slowGo(seconds: 2)
        let agent = try await LiveAgent.start(c)
        let path = "/api/download?os=linux&arch=s390x&p=github.com/proxfixture/majortwo/v2&version=v2.8.0"
        async let one = first.get(path)
        async let two = second.get(path)
        let (a, b) = try await (one, two)
        #expect(a.status == 200 && b.status == 200, "\(a.text) \(b.text)")
        #expect(a.sha256 == b.sha256)
        #expect(a.header("X-Prox-Build-Id") == b.header("X-Prox-Build-Id"), "the second hub joined the first hub's build")
        #expect(await first.buildsStarted + second.buildsStarted == 1)
        #expect(agent.agent.worker.completedJobs == 1)
        #expect(try await second.hub.cache.entries().count == 1, "the second hub fetched the artifact from the first")
        // Downloads are counted in Redis: both hubs list the same local count, and either
        // hub's cache warming sees the set downloaded through both.
        for hub in [first, second] {
            let packages = try #require(try await hub.get("/api/packages").json()["result"] as? [[String: Any]])
            let majortwo = try #require(packages.first { $0["path"] as? String == "github.com/proxfixture/majortwo/v2" })
            #expect(majortwo["local_downloads"] as? Int == 2, "\(majortwo)")
        }
        let sets = await first.hub.api.downloads.popularSets(since: Date().addingTimeInterval(-86_400), limit: 5)
        #expect(sets == [PopularSet(packages: ["github.com/proxfixture/majortwo/v2"], platform: try Platform(os: "linux", arch: "s390x"), downloads: 2)])
        await agent.stop()
        await first.stop()
        await second.stop()
    }

    @Test func pushesNeedTheTokenAndAMatchingDigest() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis)
        // No agent: the build stays queued, and we play the agent.
        let id = try await submit(hub, os: "linux", arch: "mips64", arm: nil, packages: ["github.com/proxfixture/hello@v0.2.0"])
        let path = "/api/internal/builds/\(id)/artifact"
        let body = "not a binary"
        let digest = SHA256.hash(data: Array(body.utf8)).hexString

        let anonymous = try await hub.request(path, method: .PUT, headers: [("X-Prox-Sha256", digest)], body: body)
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect((try anonymous.json()["error"] as? [String: Any])?["message"] as? String ?? "" != "")

        let wrong = try await hub.request(path, method: .PUT, headers: [("Authorization", "Bearer nope"), ("X-Prox-Sha256", digest)], body: body)
        #expect(wrong.status == 403)

        let mismatch = try await hub.request(
            path, method: .PUT, headers: [("Authorization", "Bearer \(Cluster.token)"), ("X-Prox-Sha256", String(repeating: "ab", count: 32))], body: body
        )
        #expect(mismatch.status == 422, "\(mismatch.text)")
        #expect(mismatch.text.contains("nothing was cached"))
        let notExecutable = try await hub.request(
            path, method: .PUT, headers: [("Authorization", "Bearer \(Cluster.token)"), ("X-Prox-Sha256", digest)], body: body
        )
        #expect(notExecutable.status == 422, "a body that is not a binary for the target is refused too")
        #expect(try await hub.hub.cache.entries().isEmpty)
        #expect(try await hub.get("/api/builds/\(id)/provenance").status == 404, "nothing refused is signed")
        let staged = try FileManager.default.contentsOfDirectory(atPath: hub.hub.store.stagingDirectory)
        #expect(staged.isEmpty, "refused pushes leave no file behind: \(staged)")

        let fetch = try await hub.get("/api/internal/artifacts/\(String(repeating: "0", count: 64))")
        #expect(fetch.status == 401)

        let closed = try await Cluster.hub(redis: redis) { $0.pushToken = nil }
        let refused = try await closed.request(path, method: .PUT, headers: [("Authorization", "Bearer \(Cluster.token)"), ("X-Prox-Sha256", digest)], body: body)
        #expect(refused.status == 403)
        #expect(refused.text.contains("--push-token"))
        await closed.stop()
        await hub.stop()
    }

    @Test func anACLUserWorksAndWrongCredentialsStopTheStart() async throws {
        let redis = try RedisServer(defaultUser: .disabled, users: [.init(name: "prox", password: "s3cret-pass")])
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis) {
            $0.redis.username = "prox"
            $0.redis.password = "s3cret-pass"
        }
        var c = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "acl")
        c.redis.username = "prox"
        c.redis.password = "s3cret-pass"
        let agent = try await LiveAgent.start(c)
        let reply = try await hub.get("/api/download?os=linux&arch=ppc64le&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(reply.status == 200, "\(reply.text)")
        await agent.stop()
        await hub.stop()

        await #expect {
            _ = try await Cluster.hub(redis: redis) {
                $0.redis.username = "prox"
                $0.redis.password = "wrong"
            }
        } throws: { error in
            "\(error)".contains("refused the credentials") && "\(error)".contains("--redis-password")
        }
        await #expect {
            _ = try await Cluster.hub(redis: redis)  // no credentials at all
        } throws: { error in
            "\(error)".contains("NOAUTH") && "\(error)".contains("--redis-password")
        }
        var wrong = c
        wrong.redis.password = "wrong"
        await #expect(throws: ConfigurationError.self) { _ = try await LiveAgent.start(wrong) }

        // The command itself exits with status 1, saying why.
        let port = try Loopback.freePort()
        let process = try ServerProcess(
            "proxhub", try Cluster.hubArguments(redis: redis, port: port, dataDirectory: Fixture.temporaryDirectory("prox-hub-acl"))
                + ["--redis-username", "prox", "--redis-password", "wrong"]
        )
        process.process.waitUntilExit()
        #expect(process.process.terminationStatus == 1)
        #expect(process.log.contains("--redis-password"))
    }

    @Test func withRedisDownHitsAreServedAndBuildsGet503UntilItReturns() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis)
        let agent = try await LiveAgent.start(try Cluster.agentConfiguration(redis: redis, hub: hub, name: "patient"))
        let cached = "/api/download?os=linux&arch=mips64le&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0"
        #expect(try await hub.get(cached).status == 200)

        redis.stop()
        let hit = try await hub.get(cached)
        #expect(hit.status == 200)
        #expect(hit.header("X-Prox-Cache") == "hit")
        let miss = try await hub.get("/api/download?os=linux&arch=mips64le&p=github.com/proxfixture/hello@v0.1.0&version=v2.8.0")
        #expect(miss.status == 503)
        #expect(((try miss.json()["error"] as? [String: Any])?["message"] as? String ?? "").contains("build queue is unreachable"))

        // Back: each Redis connection reconnects once its backoff (at most 5 s) has passed,
        // and the build that was refused runs.
        try redis.start()
        let back = ContinuousClock.now
        var again = try await hub.get("/api/download?os=linux&arch=mips64le&p=github.com/proxfixture/hello@v0.1.0&version=v2.8.0")
        while again.status == 503, ContinuousClock.now - back < .seconds(15) {
            try await Task.sleep(for: .milliseconds(250))
            again = try await hub.get("/api/download?os=linux&arch=mips64le&p=github.com/proxfixture/hello@v0.1.0&version=v2.8.0")
        }
        #expect(again.status == 200, "\(again.text)")
        await agent.stop()
        await hub.stop()
    }

    // MARK: - Helpers

    func submit(_ hub: some HubClient, os: String, arch: String, arm: Int?, packages: [String]) async throws -> String {
        var body: [String: Any] = ["os": os, "arch": arch, "packages": packages, "version": "v2.8.0"]
        if let arm { body["arm"] = arm }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let reply = try await hub.request("/api/builds", method: .POST, headers: [], body: text)
        let result = try #require(try reply.json()["result"] as? [String: Any], "\(reply.text)")
        return try #require(result["id"] as? String)
    }

    /// Polls `/api/builds/{id}` until the build has finished.
    func waitFinished(_ hub: some HubClient, _ id: String, tolerateOutage: Bool = false, timeout: Duration = .seconds(180)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let reply = try await hub.request("/api/builds/\(id)", method: .GET, headers: [], body: nil)
            if reply.status == 503, tolerateOutage {
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            let record = try #require(try reply.json()["result"] as? [String: Any], "\(reply.text)")
            if ["succeeded", "failed", "cancelled"].contains(record["state"] as? String ?? "") { return record }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw FixtureError(message: "build \(id) did not finish in \(timeout)")
    }

    /// Waits for a build in `/api/builds` matching `condition` and returns its id.
    func waitForBuild(_ hub: LiveHub, _ condition: @escaping @Sendable ([String: Any]) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let builds = try await hub.get("/api/builds").json()["result"] as? [[String: Any]] ?? []
            if let match = builds.first(where: condition), let id = match["id"] as? String { return id }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError(message: "no build matched in time")
    }

    /// Points an agent work directory's GOCACHE at the tests' warm one; GOMODCACHE stays its own.
    func shareBuildCache(_ workDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: workDirectory + "/go", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: Fixture.goCacheRoot + "/cache", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: workDirectory + "/go/cache", withDestinationPath: Fixture.goCacheRoot + "/cache")
    }
}

/// What the helpers need of a hub: ``LiveHub`` in this process or ``RemoteHub``.
protocol HubClient: Sendable {
    func url(_ path: String) -> String
    func request(_ path: String, method: HTTPMethod, headers: [(String, String)], body: String?) async throws -> LiveHub.Reply
}

/// A hub running as a separate process on `port`.
struct RemoteHub: HubClient {
    let port: Int
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func request(_ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil) async throws -> LiveHub.Reply {
        try await LiveHub.send(url(path), method: method, headers: headers, body: body)
    }

    func get(_ path: String) async throws -> LiveHub.Reply { try await request(path) }

    func waitUntilUp() async throws {
        let up = try await eventually(timeout: .seconds(60)) { (try? await get("/healthz"))?.status == 200 }
        if !up { throw FixtureError(message: "proxhub on port \(port) did not come up") }
    }
}

extension Array where Element: Sendable {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
