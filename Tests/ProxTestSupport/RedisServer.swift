import Foundation
import Glibc

/// A real `redis-server` for tests, on a free port of 127.0.0.1 with its own temporary
/// directory (config, log and, when persistent, the append-only file).
///
/// It starts in `init` and is ready when `init` returns. `stop()` or `kill()` it when the
/// test is done (deinit stops it too, and removes the directory). `restart()` brings it back
/// on the same port and directory, so with `persistent: true` the data survives.
public final class RedisServer: @unchecked Sendable {
    /// An ACL user: `user <name> on ><password> ~<keys> +@all -@dangerous` (the rule docs/operations.md recommends).
    public struct User: Sendable {
        public var name: String
        public var password: String
        /// Key pattern the user may touch.
        public var keys: String

        public init(name: String, password: String, keys: String = "prox:*") {
            self.name = name
            self.password = password
            self.keys = keys
        }
    }

    /// How the `default` user is configured.
    public enum DefaultUser: Sendable {
        /// No password, every command and key (Redis's own default).
        case open
        /// Every command and key, after `AUTH <password>`.
        case password(String)
        /// Off: clients must `AUTH <user> <password>` as one of `users`.
        case disabled
    }

    public let host = Loopback.host
    /// Chosen once, at the first start that binds it; restarts keep it.
    public private(set) var port: Int
    /// The server's working directory: redis.conf, redis.log and persisted data.
    public let directory: String
    public let persistent: Bool
    public let defaultUser: DefaultUser
    public let users: [User]

    private let executable: String
    private let lock = NSLock()
    private var process: Process?  // guarded by lock

    public var configurationPath: String { directory + "/redis.conf" }
    public var logPath: String { directory + "/redis.log" }

    /// Picks a port, writes the configuration and starts the server.
    public init(persistent: Bool = false, defaultUser: DefaultUser = .open, users: [User] = []) throws {
        if case .disabled = defaultUser, users.isEmpty {
            throw FixtureError(message: "RedisServer: a disabled default user needs at least one ACL user")
        }
        self.executable = try Self.findExecutable()
        self.port = try Loopback.freePort()
        self.directory = Fixture.temporaryDirectory("prox-redis")
        self.persistent = persistent
        self.defaultUser = defaultUser
        self.users = users
        // A free port may be taken by another test between choosing it and binding it: then
        // choose again (a few times), rather than fail the test that wanted a server.
        for attempt in 1...5 {
            try configuration.write(toFile: configurationPath, atomically: true, encoding: .utf8)
            do {
                try start()
                return
            } catch let error as FixtureError where attempt < 5 && error.message.contains("Address already in use") {
                port = try Loopback.freePort()
            }
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Starts the server (again) on the same port and directory and waits until it answers
    /// PING. Does nothing when it is running.
    public func start() throws {
        try lock.withLock {
            if let process, process.isRunning { return }
            process = nil
            let launched = Process()
            launched.executableURL = URL(fileURLWithPath: executable)
            launched.arguments = [configurationPath]
            launched.currentDirectoryURL = URL(fileURLWithPath: directory)
            launched.standardInput = FileHandle.nullDevice
            launched.standardOutput = FileHandle.nullDevice
            launched.standardError = FileHandle.nullDevice
            do {
                try launched.runWithDefaultSignalMask()
            } catch {
                throw FixtureError(message: "cannot start \(executable): \(error)")
            }
            process = launched
            do {
                try waitUntilReady(launched)
            } catch {
                launched.terminate(grace: .zero)
                process = nil
                throw error
            }
        }
    }

    /// SIGTERM (Redis flushes the append-only file and exits), SIGKILL if it is still
    /// running after 5 s; returns once it has exited.
    public func stop() {
        lock.withLock {
            guard let process else { return }
            self.process = nil
            process.terminate(grace: .seconds(5))
        }
    }

    /// SIGKILL: the server dies at once, as in a crash.
    public func kill() {
        lock.withLock {
            guard let process else { return }
            self.process = nil
            process.terminate(grace: .zero)
        }
    }

    /// `stop()`, then `start()` on the same port and directory.
    public func restart() throws {
        stop()
        try start()
    }

    /// The last lines of the server's log, for messages.
    public func logTail(lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    // MARK: - Internals

    var configuration: String {
        var lines = [
            "bind 127.0.0.1",
            "port \(port)",
            "protected-mode yes",
            "daemonize no",
            "dir \(Self.quoted(directory))",
            "logfile \(Self.quoted(logPath))",
            "loglevel notice",
            "save \"\"",
        ]
        if persistent {
            lines += ["appendonly yes", "appendfsync always"]
        } else {
            lines += ["appendonly no"]
        }
        switch defaultUser {
        case .open: lines.append("user default on nopass ~* &* +@all")
        case .password(let password): lines.append("user default on resetpass \(Self.quoted(">" + password)) ~* &* +@all")
        case .disabled: lines.append("user default off")
        }
        for user in users {
            lines.append("user \(Self.quoted(user.name)) on \(Self.quoted(">" + user.password)) \(Self.quoted("~" + user.keys)) +@all -@dangerous")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The RESP commands that authenticate as the fixture expects clients to.
    private var authentication: [[String]] {
        switch defaultUser {
        case .open: []
        case .password(let password): [["AUTH", password]]
        case .disabled: [["AUTH", users[0].name, users[0].password]]
        }
    }

    private func waitUntilReady(_ process: Process) throws {
        let request = (authentication + [["PING"]]).flatMap(Self.resp)
        let deadline = ContinuousClock.now + .seconds(10)
        var last = "no connection"
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw FixtureError(message: "redis-server exited (status \(process.terminationStatus)) before it answered on 127.0.0.1:\(port); its log:\n\(logTail())")
            }
            if let reply = try Loopback.exchange(port: port, send: request, timeout: .seconds(1), until: { Self.answered($0) }) {
                let text = String(decoding: reply, as: UTF8.self)
                if text.hasSuffix("+PONG\r\n") { return }
                last = text.isEmpty ? "no reply" : text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            usleep(20_000)
        }
        throw FixtureError(message: "redis-server on 127.0.0.1:\(port) did not answer PING within 10 s (last: \(last)); its log:\n\(logTail())")
    }

    /// Whether a reply to the readiness probe is complete: PONG or an error line.
    private static func answered(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.hasSuffix("+PONG\r\n") || (text.contains("-") && text.hasSuffix("\r\n"))
    }

    private static func resp(_ arguments: [String]) -> [UInt8] {
        var out = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            out += Array("$\(argument.utf8.count)\r\n".utf8) + Array(argument.utf8) + Array("\r\n".utf8)
        }
        return out
    }

    /// A redis.conf string argument.
    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `$PROX_TEST_REDIS_SERVER`, else `redis-server` on PATH, else /usr/bin/redis-server.
    private static func findExecutable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["PROX_TEST_REDIS_SERVER"], !path.isEmpty { return path }
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/redis-server") {
            return directory + "/redis-server"
        }
        throw FixtureError(message: "redis-server not found on PATH or in /usr/bin (apt-get install redis-server, or set PROX_TEST_REDIS_SERVER)")
    }
}
