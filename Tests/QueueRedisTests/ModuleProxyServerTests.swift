import Foundation
import ProxTestSupport
import Testing

/// scripts/module-proxy.py through ModuleProxyServer: the fixture proxy over loopback HTTP.
@Suite("ModuleProxyServer (scripts/module-proxy.py)", .timeLimit(.minutes(1)))
struct ModuleProxyServerTests {
    static let hello = "/github.com/proxfixture/hello/@v"

    @Test func servesTheFixtureProxyFiles() async throws {
        let proxy = try ModuleProxyServer()
        defer { proxy.stop() }
        #expect(proxy.goproxy == "http://127.0.0.1:\(proxy.port)")

        let list = try await Loopback.httpGet(port: proxy.port, path: Self.hello + "/list")
        #expect(list.status == 200)
        #expect(list.text == "v0.1.0\nv0.2.0\nv0.3.0-rc.1\n")
        let latest = try await Loopback.httpGet(port: proxy.port, path: "/github.com/proxfixture/hello/@latest")
        #expect(latest.status == 200)
        #expect(latest.text.contains(#""Version":"v0.2.0""#), "\(latest.text)")
        // Case-escaped module paths, as the go command asks for them.
        let mod = try await Loopback.httpGet(port: proxy.port, path: "/github.com/!prox!fixture/!upper!case/@v/v1.0.0.mod")
        #expect(mod.status == 200)
        #expect(mod.text.hasPrefix("module github.com/ProxFixture/UpperCase\n"), "\(mod.text)")
        let zip = try await Loopback.httpGet(port: proxy.port, path: Self.hello + "/v0.2.0.zip")
        #expect(zip.status == 200)
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: proxy.directory + "/github.com/proxfixture/hello/@v/v0.2.0.zip"))
        #expect(zip.body == Array(onDisk))

        for missing in [
            "/github.com/proxfixture/nosuchmodule/@v/list", Self.hello + "/v9.9.9.zip", "/", "/github.com",
            "/../../../etc/passwd", "/github.com/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/github.com/proxfixture/hello/@v/../../../../../etc/passwd",
        ] {
            let reply = try await Loopback.httpGet(port: proxy.port, path: missing)
            #expect(reply.status == 404, "\(missing): \(reply.status)")
        }
    }

    @Test func aDelayedZipTakesAtLeastItsDelayWithoutHoldingUpOtherRequests() async throws {
        let delay = Duration.seconds(3)
        let proxy = try ModuleProxyServer(delayZip: ["proxfixture/hello/@v/v0.1.0": delay])
        defer { proxy.stop() }
        let port = proxy.port
        let start = ContinuousClock.now
        let slow = Task {
            let reply = try await Loopback.httpGet(port: port, path: Self.hello + "/v0.1.0.zip")
            return (reply, start.duration(to: .now))
        }
        // Give the slow request time to reach the server (ordering only, not an assertion).
        try await Task.sleep(for: .milliseconds(300))
        // Meanwhile other files, even zips of the same module, come at once.
        let fastStart = ContinuousClock.now
        let otherZip = try await Loopback.httpGet(port: port, path: Self.hello + "/v0.2.0.zip")
        let info = try await Loopback.httpGet(port: port, path: Self.hello + "/v0.1.0.info")
        let fast = fastStart.duration(to: .now)
        #expect(otherZip.status == 200)
        #expect(info.status == 200)
        #expect(fast < .seconds(2), "\(fast)")
        let (reply, waited) = try await slow.value
        #expect(reply.status == 200)
        #expect(reply.body.starts(with: [0x50, 0x4b, 0x03, 0x04]))  // a zip
        #expect(waited >= delay, "\(waited)")
    }
}
