import BuildCore
import Foundation
import ProxCommands
import ProxTestSupport
import Testing

/// A plugin at a branch (`@master`): resolved through the proxy's `.info` to its exact
/// pseudo-version before the cache key, over a real HTTP module proxy.
@Suite(.serialized) struct RevisionTests {
    static let pseudo = "v0.2.1-0.20240102030405-abcdefabcdef"

    @Test("hello@master builds the commit the proxy names, and the record and cache key carry its pseudo-version")
    func branchResolvesToItsPseudoVersion() async throws {
        let proxy = try ModuleProxyServer()
        defer { proxy.stop() }
        let hub = try await LiveHub.start { $0.goproxy = proxy.goproxy }
        defer { Task { await hub.stop() } }

        let master = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40master")
        #expect(master.status == 200, "\(master.text.prefix(2000))")
        let modules = try runProgram(try writeExecutable(master.body), ["list-modules"])
        #expect(modules.contains("http.handlers.hello_master"), "the branch's commit, not a release: \(modules)")
        let id = try #require(master.header("X-Prox-Build-Id"))
        let record = try await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any]
        let plugins = record?["plugins"] as? [[String: Any]]
        #expect(plugins?.first?["version"] as? String == Self.pseudo)
        let log = try await BuildLogTests.readEvents(hub, "/api/builds/\(id)/logs").raw
        #expect(log.contains("github.com/proxfixture/hello@\(Self.pseudo)"), "\(log.prefix(2000))")
        #expect(try String(contentsOfFile: proxy.logPath, encoding: .utf8).contains("/github.com/proxfixture/hello/@v/master.info"))

        // The pseudo-version itself names the same build: same key, served from the cache.
        let exact = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40\(Self.pseudo)")
        #expect(exact.header("X-Prox-Cache") == "hit")
        #expect(exact.header("X-Prox-Cache-Key") == master.header("X-Prox-Cache-Key"))
        let release = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40v0.2.0")
        #expect(release.status == 200)
        #expect(release.header("X-Prox-Cache-Key") != master.header("X-Prox-Cache-Key"))

        // A branch the proxy does not know is a 400 naming it; Caddy at a branch too.
        let missing = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40no-such-branch")
        #expect(missing.status == 400)
        #expect(missing.text.contains("hello@no-such-branch was not found"), "\(missing.text)")
        #expect(missing.text.contains("branch or commit"))
        let caddy = try await hub.get("/api/download?os=linux&arch=amd64&version=master")
        #expect(caddy.status == 400)
        #expect(caddy.text.contains("github.com/caddyserver/caddy/v2@master was not found"), "\(caddy.text)")
    }
}
