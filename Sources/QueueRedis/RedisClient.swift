import BuildCore
import Logging
import Synchronization

/// A few ``RedisConnection``s used in turn, for short commands from many tasks at once.
/// Blocking reads (`XREAD ... BLOCK`) get a connection of their own instead.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let connections: [RedisConnection]
    private let next = Atomic<Int>(0)

    public init(configuration: RedisConfiguration, connections count: Int = 4, name: String, logger: Logger) {
        self.configuration = configuration
        self.connections = (0..<max(1, count)).map { RedisConnection(configuration: configuration, name: "\(name).\($0)", logger: logger) }
    }

    /// Connects the first connection now: start-up calls this to fail early, with Redis's
    /// own reason (wrong credentials, nothing listening).
    public func connect() async throws(RedisError) {
        try await connections[0].connect()
    }

    public func send(_ arguments: [any RedisArgument]) async throws(RedisError) -> RedisReply {
        try await connection().send(arguments)
    }

    public func pipeline(_ commands: [[any RedisArgument]]) async throws(RedisError) -> [RedisReply] {
        try await connection().pipeline(commands)
    }

    /// Runs a Lua script (`EVAL`), with no keys declared: Prox expects one Redis server,
    /// not a cluster. Scripts are sent whole each time; Redis caches their compiled form.
    public func eval(_ script: RedisScript, _ arguments: [any RedisArgument]) async throws(RedisError) -> RedisReply {
        try await send(["EVAL", script.source, 0] + arguments)
    }

    public func close() async {
        for connection in connections { await connection.close() }
    }

    private func connection() -> RedisConnection {
        connections[next.add(1, ordering: .relaxed).oldValue % connections.count]
    }
}

/// A Lua script run atomically by Redis.
public struct RedisScript: Sendable {
    public let source: String
    public init(_ source: String) { self.source = source }
}

extension RedisReply {
    /// `HGETALL`'s flat field/value array as a dictionary.
    public var fields: [String: String] {
        guard let items = array else { return [:] }
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string, let value = items[index + 1].string { result[name] = value }
            index += 2
        }
        return result
    }
}

/// Runs Redis calls and reports their failure as a ``ProxError`` (503 when Redis is
/// unreachable).
func redisCall<T: Sendable>(_ body: @Sendable () async throws(RedisError) -> T) async throws(ProxError) -> T {
    do throws(RedisError) {
        return try await body()
    } catch {
        throw error.proxError
    }
}

extension RedisError {
    /// How a Redis failure reaches an API client: 503, with what to do.
    public var proxError: ProxError {
        switch kind {
        case .connection, .authentication:
            ProxError(.unavailable, "the build queue is unreachable (\(message)): cached builds are still served; retry later")
        case .server:
            ProxError(.internal, "the build queue refused a command: \(message)")
        }
    }
}
