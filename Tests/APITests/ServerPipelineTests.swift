import BuildCore
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxTestSupport
import ProxTesting
import Testing

/// proxhub's server pipeline (``GuardedChannel`` in front of Hummingbird's HTTP/1 and
/// WebSocket channel) on a free port of 127.0.0.1, attacked with raw sockets (issue 11):
/// every request the HTTP parser rejects is answered in the JSON error shape and the
/// connection closed; oversized and unsized bodies are refused at the head; surplus
/// connections get 503. The slow-client timeouts are SystemTests' HostileClientTests.
@Suite struct ServerPipelineTests {
    static let malformed: [(name: String, request: String, status: Int, message: String)] = [
        ("garbage", "GARBAGE\r\n\r\n", 501, "method"),
        ("lower-case method", "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 501, "upper-case"),
        ("a method the parser does not know", "BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 501, "method"),
        ("QUERY", "QUERY /api/platforms HTTP/1.1\r\nHost: x\r\n\r\n", 405, "not allowed"),
        ("raw space in the URL", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "percent-encode"),
        ("control byte in the URL", "GET /a\u{01}b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "percent-encode"),
        ("NUL in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", 400, "malformed"),
        ("bad Content-Length", "POST /api/builds HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length"),
        ("Content-Length and Transfer-Encoding", "POST /api/builds HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "parsed"),
        ("bad chunk size", "POST /api/builds HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n", 400, "chunk"),
        ("huge Content-Length", "POST /api/builds HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000000\r\n\r\n", 413, "at most 1048576 bytes"),
        ("CONNECT", "CONNECT /api/platforms HTTP/1.1\r\nHost: x\r\n\r\n", 405, "not allowed"),
        ("TRACE", "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "not allowed"),
        ("bad WebSocket version", "GET /ws?job_id=x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 400, "Sec-WebSocket-Version: 13"),
        ("bad WebSocket key", "GET /ws?job_id=x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: bad\r\n\r\n", 400, "Sec-WebSocket-Key"),
        ("too many headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-A: b\r\n", count: 200) + "\r\n", 431, "header fields"),
        ("a head over the limit", "GET /api/download?" + String(repeating: "p=x&", count: 20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431, "too large"),
        ("TLS on the plain port", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}" + String(repeating: "a", count: 40), 400, "not TLS"),
    ]

    @Test func requestsTheParserRejectsAreAnsweredAndClosed() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            for (name, request, status, message) in Self.malformed {
                let bytes = name == "TLS on the plain port" ? request.unicodeScalars.map { UInt8($0.value) } : Array(request.utf8)
                let (reply, closed) = try await Loopback.rawExchange(port: port, bytes)
                #expect(reply.status == status, "\(name): \(reply.status) \(reply.text)")
                #expect(closed, "\(name): the connection stayed open")
                #expect(reply.headers.contains { $0.lowercased() == "connection: close" }, "\(name)")
                let error = try reply.errorJSON()
                #expect(error.status == status, "\(name): \(reply.text)")
                #expect(error.message.contains(message), "\(name): \(error.message)")
            }
            // The server is still there for everyone else.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test func aBadRequestAfterAGoodOneIsAnsweredAfterIt() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            let (reply, closed) = try await Loopback.rawExchange(port: port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBREW / HTTP/1.1\r\n\r\n".utf8))
            #expect(reply.status == 200)
            let rest = String(decoding: reply.body, as: UTF8.self)
            #expect(rest.contains("\"status\":\"ok\""))
            #expect(rest.contains("HTTP/1.1 501 Not Implemented"), "\(rest)")
            #expect(closed)
        }
    }

    @Test func otherUpgradesAreIgnoredAndServed() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            // What `curl --http2 http://...` sends.
            let h2c = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
            let (reply, _) = try await Loopback.blocking {
                let connection = try RawConnection(port: port)
                connection.send(Array(h2c.utf8))
                // Kept alive: read until the whole answer is there (a loaded machine may take a while).
                let (bytes, _) = connection.read(timeout: .seconds(60)) { String(decoding: $0, as: UTF8.self).contains("\"status\":\"ok\"") }
                return (try Loopback.parseHTTP(bytes, what: "h2c"), false)
            }
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.text.contains("\"status\":\"ok\""))
        }
    }

    @Test func anOversizedBodyIsRefusedBeforeItIsSent() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            let started = ContinuousClock.now
            let request = "POST /api/builds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000000\r\n\r\n{\"os\":"
            let (reply, closed) = try await Loopback.rawExchange(port: port, Array(request.utf8))
            // 413 at the head: a server waiting for the body would answer 408 after the body
            // timeout (30 s), or never.
            #expect(reply.status == 413)
            #expect(closed)
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func connectionsOverTheCapGet503() async throws {
        var limits = ConnectionLimits()
        limits.maxConnections = 4
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.testServer(limits: limits) { port, _ in
            let held = try (0..<4).map { _ in try RawConnection(port: port) }
            try await Task.sleep(for: .milliseconds(200))
            let (reply, closed) = try await Loopback.rawExchange(port: port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(reply.status == 503)
            #expect(reply.headers.contains { $0.lowercased() == "retry-after: 5" })
            #expect(try reply.errorJSON().message.contains("too many open connections"))
            #expect(closed)
            // Once they go, there is room again.
            for connection in held { connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
            try await Task.sleep(for: .milliseconds(500))
            let retry = try await Loopback.rawExchange(port: port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
            #expect(retry.reply.status == 200)
        }
    }

    @Test func anArtifactPushNeedsItsLengthAndFitsTheUploadLimit() async throws {
        let api = try await InProcessAPI(script: .init(duration: .seconds(30)), pushToken: "push-secret")
        defer { api.cleanUp() }
        var limits = ConnectionLimits()
        limits.maxUploadBody = 1000
        try await api.testServer(limits: limits) { port, client in
            let body = #"{"os": "linux", "arch": "amd64", "packages": [], "job_id": "pushed"}"#
            #expect(try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: body)).status == .accepted)
            let head = "PUT /api/internal/builds/pushed/artifact HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer push-secret\r\nX-Prox-Sha256: \(String(repeating: "a", count: 64))\r\n"
            let chunked = head + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nPROX\r\n0\r\n\r\n"
            let (unsized, _) = try await Loopback.rawExchange(port: port, Array(chunked.utf8))
            #expect(unsized.status == 411, "\(unsized.text)")
            #expect(try unsized.errorJSON().message == "Content-Length is required (the artifact's size)")

            let (tooLarge, closed) = try await Loopback.rawExchange(port: port, Array((head + "Content-Length: 1001\r\n\r\n").utf8))
            #expect(tooLarge.status == 413, "\(tooLarge.text)")
            #expect(try tooLarge.errorJSON().message.contains("at most 1000 bytes"), "\(tooLarge.text)")
            #expect(closed)
        }
    }
}
