import Foundation
import Logging
import ProxTestSupport
import QueueRedis
import Testing

/// RedisConnection against a real redis-server (one per test, on its own loopback port).
@Suite("RedisConnection (real redis-server)", .serialized, .timeLimit(.minutes(2)))
struct RedisConnectionTests {
    static var quietLogger: Logger {
        var logger = Logger(label: "test.redis")
        logger.logLevel = .critical
        return logger
    }

    static func connection(
        to server: RedisServer, username: String? = nil, password: String? = nil, commandTimeout: Duration = .seconds(5)
    ) -> RedisConnection {
        connection(port: server.port, username: username, password: password, commandTimeout: commandTimeout)
    }

    static func connection(
        port: Int, username: String? = nil, password: String? = nil, commandTimeout: Duration = .seconds(5)
    ) -> RedisConnection {
        let configuration = RedisConfiguration(
            host: "127.0.0.1", port: port, username: username, password: password, commandTimeout: commandTimeout)
        return RedisConnection(configuration: configuration, logger: quietLogger)
    }

    static func bulk(_ text: String) -> RedisReply { .bulk(Array(text.utf8)) }

    static func elapsed(since start: ContinuousClock.Instant) -> Duration { start.duration(to: .now) }

    // MARK: - Replies

    @Test func setThenGetRoundTrips() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        #expect(try await redis.send(["SET", "prox:greeting", "hello"]) == .status("OK"))
        #expect(try await redis.send(["GET", "prox:greeting"]) == Self.bulk("hello"))
        #expect(try await redis.send(["GET", "prox:greeting"]).string == "hello")
    }

    @Test func valuesAreBinarySafe() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        let value: [UInt8] = [0x00, 0xff, 0x0d, 0x0a, 0x41, 0x00, 0x0d, 0x0a, 0xfe, 0x00] + Array("*1\r\n$4\r\nPING\r\n".utf8)
        let key: [UInt8] = Array("prox:bin\r\n".utf8) + [0x00, 0xff]
        #expect(try await redis.send(["SET", key, value]) == .status("OK"))
        #expect(try await redis.send(["GET", key]) == .bulk(value))
        #expect(try await redis.send(["STRLEN", key]) == .integer(Int64(value.count)))
        // The empty value is a bulk reply too, not a null.
        #expect(try await redis.send(["SET", "prox:empty", [UInt8]()]) == .status("OK"))
        #expect(try await redis.send(["GET", "prox:empty"]) == .bulk([]))
        // Every byte value, and a value larger than the socket buffers (written in parts).
        let pattern = (0...255).map { UInt8($0) } + [0x0d]  // every byte; 257 long, so the runs shift
        var large: [UInt8] = []
        while large.count < 3 << 20 { large += pattern }
        #expect(try await redis.send(["SET", "prox:large", large]) == .status("OK"))
        #expect(try await redis.send(["GET", "prox:large"]) == .bulk(large))
    }

    @Test func integerNullArrayAndStatusReplies() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        #expect(try await redis.send(["INCR", "prox:counter"]) == .integer(1))
        #expect(try await redis.send(["INCRBY", "prox:counter", 41]) == .integer(42))
        #expect(try await redis.send(["INCRBY", "prox:counter", Int64(-50)]) == .integer(-8))
        #expect(try await redis.send(["GET", "prox:missing"]) == .null)
        #expect(try await redis.send(["GET", "prox:missing"]).isNull)
        #expect(try await redis.send(["RPUSH", "prox:list", "a", "b", "c"]) == .integer(3))
        #expect(try await redis.send(["LRANGE", "prox:list", 0, -1]) == .array([Self.bulk("a"), Self.bulk("b"), Self.bulk("c")]))
        #expect(try await redis.send(["LRANGE", "prox:nolist", 0, -1]) == .array([]))
        #expect(try await redis.send(["PING"]) == .status("PONG"))
        // Nested arrays, with a null inside: XRANGE entries and HMGET.
        let id = try #require(try await redis.send(["XADD", "prox:stream", "*", "field", "value"]).string)
        #expect(try await redis.send(["XRANGE", "prox:stream", "-", "+"]) == .array([.array([Self.bulk(id), .array([Self.bulk("field"), Self.bulk("value")])])]))
        #expect(try await redis.send(["HSET", "prox:hash", "a", "1"]) == .integer(1))
        #expect(try await redis.send(["HMGET", "prox:hash", "a", "b"]) == .array([Self.bulk("1"), .null]))
    }

    @Test func errorRepliesAreServerErrorsWithRedisMessage() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        _ = try await redis.send(["SET", "prox:text", "not a number"])
        let error = await #expect(throws: RedisError.self) { try await redis.send(["INCR", "prox:text"]) }
        #expect(error?.kind == .server)
        #expect(error?.message == "ERR value is not an integer or out of range")
        let unknown = await #expect(throws: RedisError.self) { try await redis.send(["NOSUCHCOMMAND", "x"]) }
        #expect(unknown?.kind == .server)
        #expect(unknown?.message.hasPrefix("ERR unknown command") == true, "\(String(describing: unknown))")
        _ = try await redis.send(["RPUSH", "prox:list", "x"])
        let wrongType = await #expect(throws: RedisError.self) { try await redis.send(["GET", "prox:list"]) }
        #expect(wrongType?.kind == .server)
        #expect(wrongType?.message.hasPrefix("WRONGTYPE") == true, "\(String(describing: wrongType))")
        // An error reply leaves the connection usable.
        #expect(try await redis.send(["GET", "prox:text"]) == Self.bulk("not a number"))
    }

    // MARK: - Pipelines

    @Test func pipelineRepliesComeBackInOrder() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        let replies = try await redis.pipeline([
            ["SET", "prox:a", "1"], ["INCR", "prox:a"], ["GET", "prox:a"], ["PING"], ["GET", "prox:none"], ["ECHO", "last"],
        ])
        #expect(replies == [.status("OK"), .integer(2), Self.bulk("2"), .status("PONG"), .null, Self.bulk("last")])
        let many = try await redis.pipeline((1...1000).map { ["RPUSH", "prox:seq", $0] })
        #expect(many == (1...1000).map { .integer(Int64($0)) })
        #expect(try await redis.send(["LINDEX", "prox:seq", 999]) == Self.bulk("1000"))
    }

    @Test func anErrorInAPipelineThrowsButTheOtherCommandsRan() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        let error = await #expect(throws: RedisError.self) {
            try await redis.pipeline([["SET", "prox:x", "1"], ["LPUSH", "prox:x", "y"], ["SET", "prox:z", "2"]])
        }
        #expect(error?.kind == .server)
        #expect(error?.message.hasPrefix("WRONGTYPE") == true, "\(String(describing: error))")
        #expect(try await redis.pipeline([["GET", "prox:x"], ["GET", "prox:z"]]) == [Self.bulk("1"), Self.bulk("2")])
    }

    // MARK: - Blocking commands and timeouts

    @Test func blockingReadReturnsNullAfterItsBlockTimeAndTheConnectionStaysUsable() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server, commandTimeout: .seconds(1))
        _ = try await redis.send(["XADD", "prox:s", "*", "k", "v"])
        let start = ContinuousClock.now
        let reply = try await redis.send(["XREAD", "BLOCK", 1500, "STREAMS", "prox:s", "$"], timeout: .seconds(3))
        let waited = Self.elapsed(since: start)
        #expect(reply == .null)
        #expect(waited >= .milliseconds(1400), "\(waited)")
        #expect(waited < .seconds(3), "\(waited)")
        // Back on the (shorter) command timeout, on the same connection.
        #expect(try await redis.send(["PING"]) == .status("PONG"))
        #expect(try await redis.send(["XLEN", "prox:s"]) == .integer(1))
    }

    @Test func blockingReadWakesUpForAnEntryAddedByAnotherConnection() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let reader = Self.connection(to: server)
        let writer = Self.connection(to: server)
        let read = Task { try await reader.send(["XREAD", "BLOCK", 10_000, "STREAMS", "prox:s", "$"], timeout: .seconds(15)) }
        // Add the entry only once the reader is blocked, or `$` would not see it.
        #expect(try await eventually(timeout: .seconds(10)) {
            try await writer.send(["INFO", "clients"]).string?.contains("blocked_clients:1") == true
        })
        let id = try #require(try await writer.send(["XADD", "prox:s", "*", "k", "v"]).string)
        let start = ContinuousClock.now
        let reply = try await read.value
        #expect(Self.elapsed(since: start) < .seconds(5))
        #expect(reply == .array([.array([Self.bulk("prox:s"), .array([.array([Self.bulk(id), .array([Self.bulk("k"), Self.bulk("v")])])])])]))
    }

    @Test func aCommandThatOutlastsItsTimeoutFailsAndTheConnectionRecovers() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        _ = try await redis.send(["SET", "prox:before", "1"])
        let start = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) {
            try await redis.send(["XREAD", "BLOCK", 3000, "STREAMS", "prox:s", "$"], timeout: .milliseconds(500))
        }
        let waited = Self.elapsed(since: start)
        #expect(error?.kind == .connection)
        #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
        #expect(waited >= .milliseconds(400), "\(waited)")
        #expect(waited < .seconds(2), "\(waited)")
        // The next command reconnects by itself; no retry needed.
        #expect(try await redis.send(["GET", "prox:before"]) == Self.bulk("1"))
        #expect(try await redis.send(["PING"]) == .status("PONG"))
    }

    // MARK: - Authentication

    @Test func aclUserWithPasswordWorksAndAuthenticatesAgainAfterEachReconnect() async throws {
        let server = try RedisServer(defaultUser: .disabled, users: [.init(name: "proxuser", password: "s3cret pass")])
        defer { server.stop() }
        let redis = Self.connection(to: server, username: "proxuser", password: "s3cret pass")
        try await redis.connect()
        #expect(try await redis.send(["ACL", "WHOAMI"]) == Self.bulk("proxuser"))
        #expect(try await redis.send(["SET", "prox:acl", "yes"]) == .status("OK"))
        // The user's key pattern applies: we are really that user.
        let denied = await #expect(throws: RedisError.self) { try await redis.send(["SET", "other:key", "no"]) }
        #expect(denied?.kind == .server)
        #expect(denied?.message.hasPrefix("NOPERM") == true, "\(String(describing: denied))")
        // A timeout drops the connection; the new one must AUTH again to be let in.
        _ = await #expect(throws: RedisError.self) {
            try await redis.send(["BLPOP", "prox:nothing", 2], timeout: .milliseconds(200))
        }
        #expect(try await redis.send(["ACL", "WHOAMI"]) == Self.bulk("proxuser"))
        #expect(try await redis.send(["GET", "prox:acl"]) == Self.bulk("yes"))
    }

    @Test func wrongPasswordFailsAsAuthenticationNamingTheFlags() async throws {
        let server = try RedisServer(defaultUser: .disabled, users: [.init(name: "proxuser", password: "s3cret")])
        defer { server.stop() }
        for (username, password) in [("proxuser", "wrong"), ("nosuchuser", "s3cret")] {
            let redis = Self.connection(to: server, username: username, password: password)
            for _ in 0..<2 {  // retrying does not turn it into another kind of error
                let error = await #expect(throws: RedisError.self) { try await redis.connect() }
                #expect(error?.kind == .authentication)
                #expect(error?.message.contains("--redis-username") == true, "\(String(describing: error))")
                #expect(error?.message.contains("--redis-password") == true, "\(String(describing: error))")
                #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
            }
        }
        // Without credentials the server refuses every command.
        let anonymous = Self.connection(to: server)
        let error = await #expect(throws: RedisError.self) { try await anonymous.send(["PING"]) }
        #expect(error?.message.contains("NOAUTH") == true, "\(String(describing: error))")
    }

    @Test func defaultUserPassword() async throws {
        let server = try RedisServer(defaultUser: .password("only-a-password"))
        defer { server.stop() }
        let redis = Self.connection(to: server, password: "only-a-password")
        #expect(try await redis.send(["ACL", "WHOAMI"]) == Self.bulk("default"))
        let wrong = Self.connection(to: server, password: "nope")
        let error = await #expect(throws: RedisError.self) { try await wrong.connect() }
        #expect(error?.kind == .authentication)
        #expect(error?.message.contains("--redis-password") == true, "\(String(describing: error))")
    }

    // MARK: - Unreachable, restarted and killed servers

    @Test func nothingListeningFailsFastNamingTheAddress() async throws {
        let port = try Loopback.freePort()
        let redis = Self.connection(port: port)
        let start = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { try await redis.connect() }
        #expect(Self.elapsed(since: start) < .seconds(1))
        #expect(error?.kind == .connection)
        #expect(error?.message.contains("127.0.0.1:\(port)") == true, "\(String(describing: error))")
    }

    @Test func theSameConnectionWorksAgainAfterARestartAndPersistedDataSurvives() async throws {
        let server = try RedisServer(persistent: true, defaultUser: .disabled, users: [.init(name: "proxuser", password: "pw")])
        defer { server.stop() }
        let redis = Self.connection(to: server, username: "proxuser", password: "pw")
        #expect(try await redis.send(["SET", "prox:kept", "across restarts"]) == .status("OK"))
        try server.restart()
        var failures: [RedisError] = []
        var reply: RedisReply?
        let deadline = ContinuousClock.now + .seconds(10)
        while reply == nil, ContinuousClock.now < deadline {
            do {
                reply = try await redis.send(["GET", "prox:kept"])
            } catch {
                #expect(error.kind == .connection, "\(error)")
                failures.append(error)
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(reply == Self.bulk("across restarts"))
        // The old socket is dead: at most one command notices, the next reconnects (and AUTHs).
        #expect(failures.count <= 1, "\(failures)")
        #expect(try await redis.send(["ACL", "WHOAMI"]) == Self.bulk("proxuser"))
    }

    @Test func afterAKillCommandsFailFastUntilTheServerIsBack() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        #expect(try await redis.send(["PING"]) == .status("PONG"))
        server.kill()
        let first = await #expect(throws: RedisError.self) { try await redis.send(["PING"]) }
        #expect(first?.kind == .connection)
        let start = ContinuousClock.now
        for _ in 0..<20 {
            let error = await #expect(throws: RedisError.self) { try await redis.send(["PING"]) }
            #expect(error?.kind == .connection)
            #expect(error?.message.contains("127.0.0.1:\(server.port)") == true, "\(String(describing: error))")
        }
        // Fast means no command waits out a timeout (connect 2 s, command 5 s: twenty would
        // take 40 s or more); a CI machine running other suites beside this one may still
        // take a second or two for the twenty.
        let twenty = Self.elapsed(since: start)
        #expect(twenty < .seconds(5), "\(twenty)")
        // Up again (empty: it did not persist): the connection comes back after its backoff.
        try server.start()
        #expect(try await eventually(timeout: .seconds(10), interval: .milliseconds(50)) {
            (try? await redis.send(["PING"])) == .status("PONG")
        })
        #expect(try await redis.send(["DBSIZE"]) == .integer(0))
    }

    @Test func aLargeCommandToAKilledServerFailsWithoutKillingTheProcess() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        #expect(try await redis.send(["PING"]) == .status("PONG"))
        server.kill()
        // Larger than the socket buffers: hiredis writes it in several write(2) calls, and
        // the ones after the peer's reset fail with EPIPE (and raise SIGPIPE).
        let large = [UInt8](repeating: 0x61, count: 12 << 20)
        let error = await #expect(throws: RedisError.self) { try await redis.send(["SET", "prox:large", large]) }
        #expect(error?.kind == .connection)
    }

    @Test func closedConnectionsRefuseCommands() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        #expect(try await redis.send(["PING"]) == .status("PONG"))
        await redis.close()
        let error = await #expect(throws: RedisError.self) { try await redis.send(["PING"]) }
        #expect(error?.kind == .connection)
        #expect(error?.message.contains("closed") == true, "\(String(describing: error))")
    }

    // MARK: - Concurrency

    @Test func concurrentCommandsOnOneConnectionEachGetTheirOwnReply() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = Self.connection(to: server)
        let results = try await withThrowingTaskGroup(of: (Int, RedisReply, RedisReply, [RedisReply]).self) { group in
            for i in 0..<50 {
                group.addTask {
                    let set = try await redis.send(["SET", "prox:c:\(i)", "value-\(i)"])
                    let get = try await redis.send(["GET", "prox:c:\(i)"])
                    let piped = try await redis.pipeline([["ECHO", "echo-\(i)"], ["INCRBY", "prox:sum", i], ["GET", "prox:c:\(i)"]])
                    #expect(set == .status("OK"))
                    return (i, get, piped[0], [piped[2]])
                }
            }
            var all: [(Int, RedisReply, RedisReply, [RedisReply])] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 50)
        for (i, get, echo, rest) in results {
            #expect(get == Self.bulk("value-\(i)"))
            #expect(echo == Self.bulk("echo-\(i)"))
            #expect(rest == [Self.bulk("value-\(i)")])
        }
        #expect(try await redis.send(["GET", "prox:sum"]) == Self.bulk(String((0..<50).reduce(0, +))))
    }
}
