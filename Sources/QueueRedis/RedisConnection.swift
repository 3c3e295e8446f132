import BuildCore
import CHiredis
import Foundation
import Logging
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// hiredis sends with write(2): once Redis has reset the connection (it was killed or
/// restarted, or closed us mid-command), the next write raises SIGPIPE, whose default
/// action ends the whole process. Linux has no per-socket opt-out, so, like SwiftNIO, the
/// first connection ignores SIGPIPE process-wide; the write then fails with EPIPE and the
/// command with a `.connection` error.
private let sigpipeIgnored: Bool = {
    _ = signal(SIGPIPE, SIG_IGN)
    return true
}()

/// One connection to Redis over hiredis's blocking API.
///
/// hiredis calls block, so they never run on Swift's cooperative pool. Like every blocking
/// call in Prox they run on an `NIOThreadPool`: each connection owns a pool of one thread,
/// so every call on its context happens there, one at a time and in order (a hiredis
/// context is not thread-safe). It is not `NIOThreadPool.singleton`, where file I/O runs:
/// `XREADGROUP ... BLOCK` holds its thread for seconds, and several connections blocking
/// at once must not starve the file reads behind them. After any I/O error or timeout the context is
/// discarded (hiredis leaves it unusable); the next command connects anew, setting the
/// timeout and sending AUTH again, which `redisReconnect` would not do. Failed connects
/// back off (100 ms doubling to 5 s): while backing off, commands fail at once with a
/// `.connection` error instead of each waiting for a connect timeout.
public final class RedisConnection: @unchecked Sendable {
    public let configuration: RedisConfiguration
    private let thread: NIOThreadPool
    private let logger: Logger
    // Touched only on `thread`.
    private var context: UnsafeMutablePointer<redisContext>?
    private var retryAt: ContinuousClock.Instant?
    private var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))
    private var lastFailure: RedisError?
    private var currentTimeout: Duration?
    private var closed = false

    public init(configuration: RedisConfiguration, name: String = "redis", logger: Logger = Logger(label: "prox.redis")) {
        _ = sigpipeIgnored
        self.configuration = configuration
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
        self.logger = logger
    }

    deinit {
        if let context { redisFree(context) }
        if !closed { thread.shutdownGracefully { _ in } }
    }

    /// Connects now (normally the first command does): start-up uses this to fail early
    /// with a clear message, e.g. on wrong credentials.
    public func connect() async throws(RedisError) {
        _ = try await send(["PING"])
    }

    /// Runs one command. `timeout` overrides the configured command timeout (blocking
    /// commands such as `XREADGROUP ... BLOCK n` must pass more than their block time).
    public func send(_ arguments: [any RedisArgument], timeout: Duration? = nil) async throws(RedisError) -> RedisReply {
        let replies = try await pipeline([arguments], timeout: timeout)
        return replies[0]
    }

    /// Sends several commands in one round trip and returns their replies in order. An
    /// error reply to any of them throws a `.server` error (the others still ran).
    public func pipeline(_ commands: [[any RedisArgument]], timeout: Duration? = nil) async throws(RedisError) -> [RedisReply] {
        let arguments = commands.map { $0.map(\.redisBytes) }
        let timeout = timeout ?? configuration.commandTimeout
        let result: Result<[RedisReply], RedisError>
        do {
            result = try await thread.runIfActive { self.perform(arguments, timeout: timeout) }
        } catch {
            // The thread is gone: `close()` ran.
            throw Self.closedError(configuration)
        }
        return try result.get()
    }

    /// Closes the connection and ends its thread; later commands fail.
    public func close() async {
        _ = try? await thread.runIfActive {
            self.closed = true
            if let context = self.context { redisFree(context) }
            self.context = nil
        }
        try? await thread.shutdownGracefully()
    }

    private static func closedError(_ configuration: RedisConfiguration) -> RedisError {
        RedisError(.connection, "the connection to Redis at \(configuration.address) is closed")
    }

    // MARK: - On the connection's thread

    private func perform(_ commands: [[[UInt8]]], timeout: Duration) -> Result<[RedisReply], RedisError> {
        if closed { return .failure(Self.closedError(configuration)) }
        let context: UnsafeMutablePointer<redisContext>
        switch connected() {
        case .success(let c): context = c
        case .failure(let error): return .failure(error)
        }
        if currentTimeout != timeout {
            guard redisSetTimeout(context, Self.timeval(timeout)) == REDIS_OK else { return .failure(broken(context)) }
            currentTimeout = timeout
        }
        for command in commands {
            let appended = Self.withArgv(command) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
            guard appended == REDIS_OK else { return .failure(broken(context)) }
        }
        var replies: [RedisReply] = []
        var serverError: RedisError?
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { return .failure(broken(context)) }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            defer { freeReplyObject(raw) }
            switch Self.convert(reply) {
            case .success(let value): replies.append(value)
            case .failure(let error):
                serverError = serverError ?? error
                replies.append(.null)
            }
        }
        if let serverError { return .failure(serverError) }
        return .success(replies)
    }

    /// The live context, connecting (and authenticating) first when there is none.
    private func connected() -> Result<UnsafeMutablePointer<redisContext>, RedisError> {
        if let context {
            guard Self.peerClosed(context) else { return .success(context) }
            // Closed while idle (server restarted, idle timeout): reconnect before sending,
            // rather than fail a command that a new connection can run.
            redisFree(context)
            self.context = nil
            currentTimeout = nil
            logger.notice("Redis closed an idle connection: reconnecting", metadata: ["redis": "\(configuration.address)"])
        }
        let now = ContinuousClock.now
        if let retryAt, now < retryAt, let lastFailure {
            return .failure(lastFailure)
        }
        switch open() {
        case .success(let context):
            if lastFailure != nil {
                logger.notice("reconnected to Redis", metadata: ["redis": "\(configuration.address)"])
            }
            self.context = context
            retryAt = nil
            lastFailure = nil
            backoff.reset()
            return .success(context)
        case .failure(let error):
            if lastFailure == nil {
                logger.warning("cannot reach Redis", metadata: ["redis": "\(configuration.address)", "error": "\(error.message)"])
            }
            lastFailure = error
            retryAt = now + backoff.next()
            return .failure(error)
        }
    }

    private func open() -> Result<UnsafeMutablePointer<redisContext>, RedisError> {
        guard let context = redisConnectWithTimeout(configuration.host, Int32(configuration.port), Self.timeval(configuration.connectTimeout)) else {
            return .failure(RedisError(.connection, "cannot connect to Redis at \(configuration.address): out of memory"))
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            return .failure(RedisError(.connection, "cannot connect to Redis at \(configuration.address): \(reason) (check --redis-host and --redis-port, and that redis-server is running)"))
        }
        redisEnableKeepAlive(context)
        currentTimeout = nil
        if let password = configuration.password, !password.isEmpty {
            var auth: [[UInt8]] = [Array("AUTH".utf8)]
            if let username = configuration.username, !username.isEmpty { auth.append(Array(username.utf8)) }
            auth.append(Array(password.utf8))
            guard redisSetTimeout(context, Self.timeval(configuration.commandTimeout)) == REDIS_OK else {
                let reason = Self.errorText(context)
                redisFree(context)
                return .failure(RedisError(.connection, "cannot configure the connection to Redis at \(configuration.address): \(reason)"))
            }
            currentTimeout = configuration.commandTimeout
            let raw = Self.withArgv(auth) { argc, argv, lengths in redisCommandArgv(context, argc, argv, lengths) }
            guard let raw else {
                let reason = Self.errorText(context)
                redisFree(context)
                return .failure(RedisError(.connection, "Redis at \(configuration.address) closed the connection during AUTH: \(reason)"))
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            defer { freeReplyObject(raw) }
            if reply.pointee.type == REDIS_REPLY_ERROR {
                let text = reply.pointee.str.map { String(cString: $0) } ?? "error"
                redisFree(context)
                let who = configuration.username.map { "user \($0)" } ?? "the default user"
                return .failure(RedisError(.authentication, "Redis at \(configuration.address) refused the credentials of \(who): \(text) (check --redis-username and --redis-password)"))
            }
        } else if let username = configuration.username, !username.isEmpty {
            redisFree(context)
            return .failure(RedisError(.authentication, "--redis-username \(username) needs --redis-password"))
        }
        return .success(context)
    }

    /// Discards a context after an I/O error or timeout and describes the failure.
    private func broken(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let reason = Self.errorText(context)
        redisFree(context)
        self.context = nil
        currentTimeout = nil
        let error = RedisError(.connection, "lost the connection to Redis at \(configuration.address): \(reason)")
        logger.warning("Redis connection lost", metadata: ["redis": "\(configuration.address)", "error": "\(reason)"])
        lastFailure = error
        retryAt = nil  // reconnect at once on the next command; back off only if that fails
        return error
    }

    // MARK: - hiredis glue

    /// True when the idle connection has something to read (RESP2 sends nothing
    /// unasked, so that is an error or the end of the stream) or has hung up.
    private static func peerClosed(_ context: UnsafeMutablePointer<redisContext>) -> Bool {
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    private static func timeval(_ duration: Duration) -> Glibc.timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if text.isEmpty || text == "Resource temporarily unavailable" { return text.isEmpty ? "I/O error" : "timed out" }
        return text
    }

    private static func withArgv<R>(_ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        // Copies every argument into one buffer so the pointers stay valid for the call.
        var buffer: [CChar] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        for argument in arguments {
            offsets.append(buffer.count)
            lengths.append(argument.count)
            buffer.append(contentsOf: argument.map { CChar(bitPattern: $0) })
            buffer.append(0)
        }
        return buffer.withUnsafeBufferPointer { storage in
            var argv: [UnsafePointer<CChar>?] = offsets.map { storage.baseAddress! + $0 }
            return argv.withUnsafeMutableBufferPointer { argvPointer in
                lengths.withUnsafeBufferPointer { lengthPointer in
                    body(Int32(arguments.count), argvPointer.baseAddress!, lengthPointer.baseAddress!)
                }
            }
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> Result<RedisReply, RedisError> {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_NIL:
            return .success(.null)
        case REDIS_REPLY_INTEGER:
            return .success(.integer(Int64(r.integer)))
        case REDIS_REPLY_STATUS:
            return .success(.status(String(decoding: bytes(r), as: UTF8.self)))
        case REDIS_REPLY_STRING:
            return .success(.bulk(bytes(r)))
        case REDIS_REPLY_ERROR:
            let text = String(decoding: bytes(r), as: UTF8.self)
            if text.hasPrefix("NOAUTH") || text.hasPrefix("WRONGPASS") {
                return .failure(RedisError(.authentication, "Redis refused the command: \(text) (check --redis-username and --redis-password)"))
            }
            return .failure(RedisError(.server, text))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(r.elements)
            for index in 0..<r.elements {
                guard let element = r.element[index] else {
                    items.append(.null)
                    continue
                }
                switch convert(element) {
                case .success(let item): items.append(item)
                case .failure(let error): return .failure(error)
                }
            }
            return .success(.array(items))
        default:
            return .failure(RedisError(.server, "unexpected reply type \(r.type)"))
        }
    }

    private static func bytes(_ r: redisReply) -> [UInt8] {
        guard let str = r.str, r.len > 0 else { return [] }
        return str.withMemoryRebound(to: UInt8.self, capacity: r.len) { Array(UnsafeBufferPointer(start: $0, count: r.len)) }
    }
}
