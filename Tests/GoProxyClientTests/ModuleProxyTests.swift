import BuildCore
import Foundation
import GoProxyClient
import ProxTestSupport
import Testing

@Suite("ModuleProxy (HTTP and file://)")
struct ModuleProxyTests {
    @Test("the fixture proxy answers version lists, .info and @latest, with case escaping")
    func fixtureQueries() async throws {
        let proxy = try ModuleProxy(goproxy: try Fixture.paths().goproxy)
        let caddy = try #require(try await proxy.versionList(module: "github.com/caddyserver/caddy/v2"))
        #expect(Set(caddy) == ["v2.7.6", "v2.8.0", "v2.8.4", "v2.9.0-beta.1"])
        #expect(try await proxy.info(module: "github.com/proxfixture/hello", version: "v0.1.0") == "v0.1.0")
        #expect(try await proxy.info(module: "github.com/proxfixture/hello", version: "v9.9.9") == nil)
        #expect(try await proxy.latest(module: "github.com/proxfixture/hello") == "v0.2.0")
        #expect(try await proxy.versionList(module: "github.com/ProxFixture/UpperCase") == ["v1.0.0"])
        #expect(try await proxy.versionList(module: "github.com/proxfixture/nope") == nil)
    }

    @Test("',' falls through to the next entry when one says not found")
    func commaFallsThroughOnNotFound() async throws {
        let missing = Fixture.temporaryDirectory("prox-empty-proxy")
        defer { try? FileManager.default.removeItem(atPath: missing) }
        let proxy = try ModuleProxy(goproxy: "file://\(missing),\(try Fixture.paths().goproxy)")
        #expect(try await proxy.latest(module: "github.com/proxfixture/hello") == "v0.2.0")
    }

    @Test("'|' falls through on an error; ',' does not")
    func pipeFallsThroughOnError() async throws {
        // Port 1 on localhost: connection refused, an error rather than a not-found. (AsyncHTTPClient
        // retries refused connections until the request deadline, so keep the timeout short.)
        let fixture = try Fixture.paths().goproxy
        let pipe = try ModuleProxy(goproxy: "http://127.0.0.1:1|\(fixture)", requestTimeout: .seconds(1))
        #expect(try await pipe.latest(module: "github.com/proxfixture/hello") == "v0.2.0")

        let comma = try ModuleProxy(goproxy: "http://127.0.0.1:1,\(fixture)", requestTimeout: .seconds(1))
        let error = await #expect(throws: ProxError.self) { try await comma.latest(module: "github.com/proxfixture/hello") }
        #expect(error?.kind == .upstreamUnavailable)
        #expect(error?.message.contains("could not be reached") == true)
    }

    @Test("an unreadable .info document is an upstream error")
    func unreadableInfo() async throws {
        let root = Fixture.temporaryDirectory("prox-bad-proxy")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/example.com/bad/@v", withIntermediateDirectories: true)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: root + "/example.com/bad/@v/v1.0.0.info"))
        let proxy = try ModuleProxy(goproxy: "file://" + root)
        let error = await #expect(throws: ProxError.self) { try await proxy.info(module: "example.com/bad", version: "v1.0.0") }
        #expect(error?.kind == .upstreamUnavailable)
    }
}
