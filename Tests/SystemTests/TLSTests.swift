import AsyncHTTPClient
import BuildCore
import Crypto
import Foundation
import HTTPFront
import NIOHTTP1
import NIOCore
import NIOSSL
import ProxCommands
import ProxTestSupport
import QueueRedis
import Synchronization
import Testing

/// proxhub over https (`--tls-cert`, `--tls-key`) with a test CA made by openssl: the API
/// and downloads, reloads on SIGHUP, and an agent pushing to an https hub with `--hub-ca`.
@Suite struct TLSTests {
    /// A CA and a server certificate for 127.0.0.1 signed by it, in a new directory.
    struct TestPKI {
        let directory: String
        var ca: String { directory + "/ca.pem" }
        var certificate: String { directory + "/server.pem" }
        var key: String { directory + "/server.key" }

        init() throws {
            directory = Fixture.temporaryDirectory("prox-tls")
            try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", directory + "/ca.key",
                              "-out", directory + "/ca.pem", "-days", "2", "-subj", "/CN=Prox Test CA"])
            try issue(serial: "1001")
        }

        /// Issues (again) the server certificate, with `serial`, over the same files.
        func issue(serial: String) throws {
            try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: directory + "/san.txt", atomically: true, encoding: .utf8)
            try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", directory + "/next.key",
                              "-out", directory + "/server.csr", "-subj", "/CN=127.0.0.1"])
            try Self.openssl(["x509", "-req", "-in", directory + "/server.csr", "-CA", directory + "/ca.pem", "-CAkey", directory + "/ca.key",
                              "-set_serial", serial, "-out", directory + "/next.pem", "-days", "2", "-extfile", directory + "/san.txt"])
            for (from, to) in [("next.key", "server.key"), ("next.pem", "server.pem")] {
                _ = rename(directory + "/" + from, directory + "/" + to)
            }
        }

        static func openssl(_ arguments: [String]) throws {
            let output = TLSTests.runProgram("/usr/bin/openssl", arguments, stderr: true)
            guard output.status == 0 else { throw FixtureError(message: "openssl \(arguments.joined(separator: " ")) failed: \(output.text)") }
        }

        /// A client that trusts this CA; kept for the life of the test process (an HTTP client
        /// must be shut down before it is released, and a failing test may not get there).
        func client() throws -> HTTPClient {
            let ca = self.ca
            return TestPKI.clients.withLock { clients in
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.additionalTrustRoots = [.file(ca)]
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
                clients.append(client)
                return client
            }
        }

        static let clients = Mutex<[HTTPClient]>([])

        /// The serial number of the certificate a new connection to `port` is shown.
        static func servedSerial(port: Int) -> String {
            let shown = TLSTests.runProgram("/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) </dev/null 2>/dev/null | openssl x509 -noout -serial"], stderr: false)
            return shown.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static func runProgram(_ path: String, _ arguments: [String], stderr: Bool) -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        if stderr { process.standardError = pipe } else { process.standardError = FileHandle.nullDevice }
        guard (try? process.run()) != nil else { return (-1, "cannot run \(path)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A standalone `proxhub` process on the fixture, 127.0.0.1:`port`, logging notices.
    static func proxhubArguments(port: Int) throws -> [String] {
        let fixture = try Fixture.paths()
        return [
            "--webserver-host", "127.0.0.1", "--webserver-port", String(port), "--binary-path", Fixture.temporaryDirectory("prox-process-hub"),
            "--goproxy", fixture.goproxy, "--package-endpoint", fixture.packageEndpoint, "--go", Fixture.goExecutable, "--log-level", "notice",
        ]
    }

    static func get(_ client: HTTPClient, _ url: String) async throws -> (status: Int, body: [UInt8]) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(300))
        let body = try await response.body.collect(upTo: 256 << 20)
        return (Int(response.status.code), Array(body.readableBytesView))
    }

    @Test func theAPIAndDownloadsOverHTTPSAndPlainHTTPIsRefused() async throws {
        let pki = try TestPKI()
        let hub = try await LiveHub.start { c in
            c.tlsCertificate = pki.certificate
            c.tlsKey = pki.key
        }
        defer { Task { await hub.stop() } }
        let client = try pki.client()
        let base = "https://127.0.0.1:\(hub.port)"
        #expect(try await Self.get(client, base + "/healthz").status == 200)
        // The web UI's session cookie is Secure on an https server.
        var logout = HTTPClientRequest(url: base + "/api/session")
        logout.method = .DELETE
        let session = try await client.execute(logout, timeout: .seconds(30))
        #expect(session.headers.first(name: "Set-Cookie")?.contains("; Secure") == true, "\(session.headers)")
        // A download over TLS (read in chunks: sendfile cannot encrypt), whole and intact.
        let download = try await Self.get(client, base + "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(download.status == 200)
        let again = try await Self.get(client, base + "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(again.body.count == download.body.count && SHA256.hash(data: again.body) == SHA256.hash(data: download.body))
        #expect(download.body.count > 1_000_000)
        // Plain HTTP on the TLS port gets no HTTP answer.
        let plain = try await Loopback.blocking {
            let connection = try RawConnection(port: hub.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            return connection.read(timeout: .seconds(5))
        }
        #expect(plain.closed)
        #expect(!String(decoding: plain.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
    }

    @Test func aReloadServesTheNewCertificateAndKeepsTheOldOneWhenTheNewOneIsBroken() async throws {
        let pki = try TestPKI()
        let hub = try await LiveHub.start { c in
            c.tlsCertificate = pki.certificate
            c.tlsKey = pki.key
        }
        defer { Task { await hub.stop() } }
        let tls = try #require(hub.hub.tls)
        #expect(TestPKI.servedSerial(port: hub.port) == "serial=03E9")  // 1001
        try pki.issue(serial: "1002")
        try tls.reload()
        #expect(TestPKI.servedSerial(port: hub.port) == "serial=03EA")
        // A broken file: the reload fails, naming the flag, and the certificate in use stays.
        try "not a certificate".write(toFile: pki.certificate, atomically: true, encoding: .utf8)
        let error = #expect(throws: ProxError.self) { try tls.reload() }
        #expect(error?.message.contains("--tls-cert") == true)
        #expect(TestPKI.servedSerial(port: hub.port) == "serial=03EA")
    }

    @Test func sighupReloadsAProxhubProcessWithoutDroppingItsConnections() async throws {
        let pki = try TestPKI()
        let port = try Loopback.freePort()
        let hub = try ServerProcess("proxhub", try Self.proxhubArguments(port: port) + ["--tls-cert", pki.certificate, "--tls-key", pki.key])
        let client = try pki.client()
        #expect(await eventually(timeout: .seconds(60)) { (try? await Self.get(client, "https://127.0.0.1:\(port)/healthz").status) == 200 })
        // A keep-alive connection open across the reload.
        let held = try await Loopback.blocking {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-quiet", "-connect", "127.0.0.1:\(port)"]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, input, output)
        }
        try pki.issue(serial: "1003")
        kill(hub.process.processIdentifier, SIGHUP)
        #expect(await eventually(timeout: .seconds(10)) { TestPKI.servedSerial(port: port) == "serial=03EB" }, "\(hub.log)")
        #expect(hub.log.contains("reloaded the TLS certificate"))
        // The connection made before the reload still answers.
        held.1.fileHandleForWriting.write(Data("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        let answer = try await Loopback.blocking { String(decoding: held.2.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")
        held.0.terminate()
        hub.terminate()
    }

    @Test func aPlainHTTPProxhubSurvivesSIGHUP() async throws {
        let port = try Loopback.freePort()
        let hub = try ServerProcess("proxhub", try Self.proxhubArguments(port: port))
        #expect(await eventually(timeout: .seconds(60)) { (try? await Loopback.httpGet(port: port, path: "/healthz").status) == 200 })
        kill(hub.process.processIdentifier, SIGHUP)
        #expect(await eventually(timeout: .seconds(10)) { hub.log.contains("SIGHUP: nothing to reload") }, "\(hub.log)")
        #expect(hub.process.isRunning)
        #expect(try await Loopback.httpGet(port: port, path: "/healthz").status == 200)
        hub.terminate()
    }

    @Test func anAgentPushesToAnHTTPSHubItTrustsThroughHubCA() async throws {
        let pki = try TestPKI()
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis) { c in
            c.tlsCertificate = pki.certificate
            c.tlsKey = pki.key
        }
        var configuration = try Cluster.agentConfiguration(redis: redis, hub: hub, name: "secure")
        configuration.hubURL = "https://127.0.0.1:\(hub.port)"
        configuration.hubCA = pki.ca
        let agent = try await LiveAgent.start(configuration)
        let client = try pki.client()
        let download = try await Self.get(client, "https://127.0.0.1:\(hub.port)/api/download?os=linux&arch=arm64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(download.status == 200, "\(String(decoding: download.body.prefix(500), as: UTF8.self))")
        #expect(agent.agent.worker.completedJobs == 1)
        // A --hub-ca that is not a certificate stops the agent's start.
        var broken = configuration
        broken.hubCA = pki.key
        broken.name = "broken"
        await #expect(throws: (any Error).self) { _ = try await LiveAgent.start(broken) }
        await agent.stop()
        await hub.stop()
    }
}
