import BuildCore
import Foundation
import ProxCommands
import ProxTestSupport
import Testing

/// `--warm-top`: a new Caddy release appears in the module proxy; the popular set is
/// built for it before anyone asks, and the next request is a hit.
@Suite(.serialized) struct WarmingTests {
    @Test func aNewReleaseIsWarmedForThePopularSetAndTheNextRequestHits() async throws {
        // A proxy of the test's own, where a release can be published.
        let fixture = try Fixture.paths()
        let root = Fixture.temporaryDirectory("prox-warm-proxy")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.copyItem(atPath: fixture.proxyDirectory, toPath: root + "/proxy")
        try FileManager.default.copyItem(atPath: fixture.root + "/packages.json", toPath: root + "/packages.json")

        let hub = try await LiveHub.start { c in
            c.goproxy = "file://\(root)/proxy"
            c.packageEndpoint = "file://\(root)/packages.json"
            c.warmTop = 1
            c.warmInterval = .milliseconds(300)
            c.resolveTTL = .milliseconds(200)
        }
        let warmer = try #require(hub.hub.warmer)
        let popular = "/api/download?os=linux&arch=arm64&p=github.com/proxfixture/hello"
        let first = try await hub.get(popular)
        #expect(first.status == 200, "\(first.text)")
        #expect(first.header("X-Prox-Caddy-Version") == "v2.8.4")
        // The warmer notes the release users get now, and warms nothing for it.
        #expect(await eventually(timeout: .seconds(30)) { await warmer.lastReport?.release?.description == "v2.8.4" })
        #expect(await warmer.lastReport?.newRelease == false)

        _ = try await Loopback.blocking {
            try runProgram("/usr/bin/env", ["python3", Fixture.repositoryRoot + "/scripts/make-fixture-proxy.py", "--add-caddy-release", "v2.8.5", root])
        }
        #expect(await eventually(timeout: .seconds(300)) { await warmer.lastReport?.release?.description == "v2.8.5" })
        let report = try #require(await warmer.lastReport)
        #expect(report.newRelease && report.built == 1 && report.failed == 0, "\(report)")
        #expect(await hub.buildsStarted == 2)

        let next = try await hub.get(popular)
        #expect(next.status == 200)
        #expect(next.header("X-Prox-Cache") == "hit", "built before it was asked for")
        #expect(next.header("X-Prox-Caddy-Version") == "v2.8.5")
        // Warmed once: later checks see the same release and build nothing.
        try await Task.sleep(for: .seconds(1))
        #expect(await warmer.lastReport?.newRelease == false)
        #expect(await hub.buildsStarted == 2)
        await hub.stop()
    }
}
