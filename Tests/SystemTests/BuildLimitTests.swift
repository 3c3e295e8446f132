import BuildCore
import Foundation
import GoToolchain
import ProxCommands
import ProxTestSupport
import Testing

/// Build resource limits on a live proxhub (issue 11): a plugin whose compilation needs
/// more memory than `--build-memory` (the fixture's `hungry`, about 2 GB) is stopped with
/// a message naming the limit, while proxhub keeps answering and ordinary builds succeed.
@Suite struct BuildLimitTests {
    static let hungry = "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hungry@v0.1.0&version=v2.8.0"
    static let hello = "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0"

    /// Polls /healthz every 100 ms while `work` runs: how many polls, how many failed, and
    /// the slowest answer. (A server the build took down fails polls; on a loaded CI
    /// machine a live one may still be slow, so latency is bounded loosely.)
    static func watchHealth(_ hub: LiveHub, while work: () async throws -> Void) async throws -> (polls: Int, failed: Int, slowest: Duration) {
        let counts = Task {
            var polls = 0, failed = 0
            var slowest = Duration.zero
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let ok = (try? await hub.get("/healthz").status) == 200
                // The poll under way when `work` ends is cancelled by the watcher, and a
                // cancelled request throws: that one says nothing about the server.
                if Task.isCancelled { break }
                polls += 1
                if !ok { failed += 1 }
                slowest = max(slowest, ContinuousClock.now - started)
                try? await Task.sleep(for: .milliseconds(100))
            }
            return (polls, failed, slowest)
        }
        try await work()
        counts.cancel()
        return await counts.value
    }

    static func expectMemoryRefusal(_ hub: LiveHub, limit: String, thenAnOrdinaryBuild: Bool) async throws {
        let (polls, failed, slowest) = try await Self.watchHealth(hub) {
            let reply = try await hub.get(Self.hungry)
            if reply.status != 422, let id = reply.header("X-Prox-Build-Id") {
                Issue.record("the build was not stopped: its log:\n\(try await hub.get("/api/builds/\(id)/logs").text.suffix(3000))")
            }
            #expect(reply.status == 422)
            let message = ((try reply.json())["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.hasPrefix("the build used more than \(limit) of memory (--build-memory) and was stopped"), "\(message)")
        }
        #expect(polls > 3 && failed == 0, "/healthz was answered throughout: \(failed) of \(polls) polls failed")
        #expect(slowest < .seconds(15), "the slowest /healthz took \(slowest)")
        // An ordinary build fits.
        if thenAnOrdinaryBuild { #expect(try await hub.get(Self.hello).status == 200) }
    }

    /// The automatic fence: a cgroup where this process may make one (it holds the
    /// compiler to 256 MiB even with GOMEMLIMIT's help), else the rlimit (where 256 MiB is
    /// too little for any build: then only the refusal is checked).
    @Test func aBuildOverItsMemoryIsStoppedAndNamedWhileTheServerServes() async throws {
        let hub = try await LiveHub.start { c in
            c.allowUnlisted = true
            c.buildResources.memory = 256 << 20
        }
        defer { Task { await hub.stop() } }
        try await Self.expectMemoryRefusal(hub, limit: "256 MiB", thenAnOrdinaryBuild: false)
        let builds = try #require(try await hub.get("/api/builds?limit=5").json()["result"] as? [[String: Any]])
        let id = try #require(builds.first?["id"] as? String)
        let log = try await hub.get("/api/builds/\(id)/logs").text
        if log.contains("(a cgroup") {
            #expect(try await hub.get(Self.hello).status == 200, "an ordinary build fits in 256 MiB")
        } else {
            #expect(log.contains("limits: memory 256 MiB (RLIMIT_DATA)"), "\(log.prefix(2000))")
        }
    }

    @Test func theRlimitFenceStopsItToo() async throws {
        let hub = try await LiveHub.start { c in
            c.allowUnlisted = true
            c.buildResources.memory = 512 << 20
            c.buildResources.fence = .rlimit
        }
        defer { Task { await hub.stop() } }
        try await Self.expectMemoryRefusal(hub, limit: "512 MiB", thenAnOrdinaryBuild: true)
        let builds = try #require(try await hub.get("/api/builds?limit=5").json()["result"] as? [[String: Any]])
        let id = try #require(builds.last?["id"] as? String)
        let log = try await hub.get("/api/builds/\(id)/logs")
        #expect(log.text.contains("limits: memory 512 MiB (RLIMIT_DATA)"), "\(log.text.prefix(2000))")
    }

    @Test func aBuildOverItsDiskIsStoppedAndCPUsAreLimited() async throws {
        let full = try await LiveHub.start { c in c.buildResources.disk = 1 << 20 }
        let reply = try await full.get(Self.hello)
        #expect(reply.status == 422)
        #expect(reply.text.contains("the build wrote more than 1 MiB to its work directory (--build-disk)"), "\(reply.text)")
        await full.stop()

        let hub = try await LiveHub.start { c in
            c.buildResources.disk = 64 << 20
            c.buildResources.cpus = 1
        }
        defer { Task { await hub.stop() } }
        let ok = try await hub.get(Self.hello)
        #expect(ok.status == 200)
        let id = try #require(ok.header("X-Prox-Build-Id"))
        let log = try await hub.get("/api/builds/\(id)/logs")
        #expect(log.text.contains("1 CPU, disk 64 MiB"), "\(log.text.prefix(2000))")
        #expect(log.text.contains("$ go build -o caddy -p 1 "))
    }
}

/// `--go-cache-max-size` on a live proxhub with Go caches of its own: after a build both
/// caches are over a 64 KiB bound; the build cache is trimmed to its least recently used
/// quarter, the module cache removed (no build runs), and the next build still succeeds.
@Suite struct GoCacheBoundTests {
    @Test func theGoCachesAreKeptUnderTheirBound() async throws {
        let root = Fixture.temporaryDirectory("prox-janitor-gocache")
        let hub = try await LiveHub.start(goCacheRoot: root) { c in
            c.goCacheMaxSize = 64 << 10  // the fixture's module cache holds about 150 KiB
            c.goCacheCheckInterval = .zero
        }
        defer { Task { await hub.stop() } }
        #expect(try await hub.get("/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0").status == 200)
        let runner = try #require(hub.hub.runner)
        let janitor = try #require(runner.janitor)
        #expect(await eventually(timeout: .seconds(60)) { await janitor.trims.contains("GOMODCACHE") })
        let trims = await janitor.trims
        #expect(trims.contains("GOCACHE"), "\(trims)")
        #expect(!FileManager.default.fileExists(atPath: root + "/mod/github.com"), "the module cache is gone")
        #expect(try await hub.get("/api/download?os=linux&arch=arm64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0").status == 200)
    }
}
