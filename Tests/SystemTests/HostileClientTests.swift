import Foundation
import HTTPFront
import ProxCommands
import ProxTestSupport
import Testing

/// Slow clients against a live proxhub (issue 11): slow and idle connections are closed,
/// and a slowloris does not keep others out. (What the parser refuses, oversized bodies and
/// the connection cap are in APITests' ServerPipelineTests.)
@Suite struct HostileClientTests {
    @Test func slowAndIdleConnectionsAreClosed() async throws {
        let hub = try await LiveHub.start { configuration in
            configuration.connectionLimits.headerTimeout = .seconds(1)
            configuration.connectionLimits.idleTimeout = .seconds(1)
            configuration.connectionLimits.bodyTimeout = .seconds(1)
        }
        defer { Task { await hub.stop() } }
        let port = hub.port
        // A head sent one line at a time: 408 after the header timeout.
        let trickled = try await Loopback.blocking { () -> (bytes: [UInt8], closed: Bool) in
            let connection = try RawConnection(port: port)
            connection.send("GET /healthz HTTP/1.1\r\n")
            for _ in 0..<8 {
                guard connection.send("X-Slow: 1\r\n") else { break }
                let (bytes, closed) = connection.read(timeout: .milliseconds(500))
                if closed { return (bytes, closed) }
                if !bytes.isEmpty {
                    let rest = connection.read(timeout: .seconds(3))
                    return (bytes + rest.bytes, rest.closed)
                }
            }
            return connection.read(timeout: .seconds(2))
        }
        #expect(try Loopback.parseHTTP(trickled.bytes, what: "trickled head").status == 408)
        #expect(trickled.closed)
        // A body that stops: 408.
        let stalled = try await Loopback.rawExchange(
            port: port, Array("POST /api/builds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"os\":".utf8)
        )
        #expect(stalled.reply.status == 408, "\(stalled.reply.text)")
        #expect(stalled.closed)
        // Connected and silent, or idle after a response: closed without a word.
        let silent = try await Loopback.blocking {
            let connection = try RawConnection(port: port)
            return connection.read(timeout: .seconds(4))
        }
        #expect(silent.closed && silent.bytes.isEmpty)
        let idle = try await Loopback.blocking {
            let connection = try RawConnection(port: port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            return connection.read(timeout: .seconds(4))
        }
        #expect(idle.closed)
        #expect(try Loopback.parseHTTP(idle.bytes, what: "idle").status == 200)
    }

    @Test func aSlowlorisDoesNotKeepOthersOut() async throws {
        let hub = try await LiveHub.start { configuration in
            configuration.connectionLimits.headerTimeout = .seconds(8)
        }
        defer { Task { await hub.stop() } }
        let port = hub.port
        let attackers = 1000
        // A thousand connections, each sending a request line and then nothing yet.
        let connections = try await Loopback.blocking {
            try (0..<attackers).map { _ in
                let connection = try RawConnection(port: port)
                connection.send("GET /healthz HTTP/1.1\r\n")
                return connection
            }
        }
        // While they hold their connections, a normal client is served at once.
        _ = await eventually(timeout: .seconds(3)) { hub.hub.connections.current >= attackers }
        // (On a loaded machine the first connections may already have timed out.)
        #expect(hub.hub.connections.current >= attackers / 2, "the attack did not get going: \(hub.hub.connections.current) connections")
        let started = ContinuousClock.now
        let reply = try await hub.get("/api/platforms")
        #expect(reply.status == 200)
        // (Well under a second on a quiet machine; CI runs other suites beside this one.)
        #expect(ContinuousClock.now - started < .seconds(5))
        // Trickling a header line every half second does not keep a connection: each gets
        // 408 once its head has taken longer than the header timeout.
        let (closed, timedOut) = try await Loopback.blocking { () -> (Int, Int) in
            var open = Set(connections.indices)
            var timedOut = 0
            let deadline = ContinuousClock.now + .seconds(30)
            while !open.isEmpty, ContinuousClock.now < deadline {
                for index in open {
                    let connection = connections[index]
                    let sent = connection.send("X-Slow: 1\r\n")
                    let (bytes, closed) = connection.read(timeout: .milliseconds(1))
                    if String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 408") { timedOut += 1 }
                    if !sent || closed || !bytes.isEmpty { open.remove(index) }
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
            return (attackers - open.count, timedOut)
        }
        #expect(closed == attackers)
        #expect(timedOut > attackers * 9 / 10, "\(timedOut) of \(attackers) got a 408")
    }
}
