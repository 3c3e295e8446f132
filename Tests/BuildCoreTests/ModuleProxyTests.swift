import BuildCore
import Foundation
import ProxTestSupport
import Testing

@Suite("ModuleProxy")
struct ModuleProxyTests {
    @Test("escape: each upper-case letter becomes ! and its lower-case form")
    func escape() {
        #expect(ModuleProxy.escape("github.com/ProxFixture/UpperCase") == "github.com/!prox!fixture/!upper!case")
        #expect(ModuleProxy.escape("github.com/BurntSushi/toml") == "github.com/!burnt!sushi/toml")
        #expect(ModuleProxy.escape("github.com/proxfixture/hello") == "github.com/proxfixture/hello")
        #expect(ModuleProxy.escape("v1.0.0-RC.1") == "v1.0.0-!r!c.1")
        #expect(ModuleProxy.escape("") == "")
    }

    @Test("GOPROXY list: , and | separators, direct and off skipped, trailing slash dropped")
    func parseList() throws {
        let proxy = try ModuleProxy(goproxy: "https://a.example/,direct,http://b.example|file:///srv/proxy,off")
        #expect(proxy.goproxy == "https://a.example/,direct,http://b.example|file:///srv/proxy,off")
        #expect(proxy.entries.map(\.url) == ["https://a.example", "http://b.example", "file:///srv/proxy"])
        // An entry followed by | falls through on any error; one followed by , (or last) only on not-found.
        #expect(proxy.entries.map(\.fallThroughOnError) == [false, true, false])
    }

    @Test("whitespace around entries is ignored; empty entries skipped")
    func whitespace() throws {
        let proxy = try ModuleProxy(goproxy: " https://a.example , ,https://b.example| ")
        #expect(proxy.entries.map(\.url) == ["https://a.example", "https://b.example"])
        #expect(proxy.entries.map(\.fallThroughOnError) == [false, true])
    }

    @Test("a list with no proxy (only direct/off, or empty) is rejected", arguments: ["direct", "off", "direct,off", "", " , ", "direct|off"])
    func onlyDirect(goproxy: String) {
        let error = #expect(throws: ProxError.self) { try ModuleProxy(goproxy: goproxy) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("has no module proxy") == true)
    }

    @Test("entries that are not file/http/https URLs are rejected", arguments: ["ftp://proxy.example", "proxy.golang.org", "https://ok.example,gopher://x"])
    func badScheme(goproxy: String) {
        let error = #expect(throws: ProxError.self) { try ModuleProxy(goproxy: goproxy) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("is not a file://, http:// or https:// URL") == true)
    }

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
