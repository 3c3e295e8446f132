import QueueRedis

/// The Redis flags shared by `proxhub --hub` and `proxagent` (prox-builder's names).
public struct RedisSettings: Sendable, Equatable {
    public var host = "localhost"
    public var port = 6379
    public var username: String?
    public var password: String?

    public init() {}

    public var configuration: RedisConfiguration {
        RedisConfiguration(host: host, port: port, username: username, password: password)
    }

    static func settings<C>(_ keyPath: WritableKeyPath<C, RedisSettings>) -> [Setting<C>] {
        nonisolated(unsafe) let path = keyPath  // key paths are immutable
        return [
            Setting(flag: "--redis-host", env: "PB_REDIS_HOST") { c, v throws(ConfigurationError) in c[keyPath: path].host = v },
            Setting(flag: "--redis-port", env: "PB_REDIS_PORT") { c, v throws(ConfigurationError) in
                c[keyPath: path].port = try SettingValue.integer(v, in: 1...65535, "--redis-port", "PB_REDIS_PORT")
            },
            Setting(flag: "--redis-username", env: "PB_REDIS_USERNAME") { c, v throws(ConfigurationError) in c[keyPath: path].username = v },
            Setting(flag: "--redis-password", env: "PB_REDIS_PASSWORD") { c, v throws(ConfigurationError) in c[keyPath: path].password = v },
        ]
    }

    func validate() throws(ConfigurationError) {
        if host.isEmpty { throw ConfigurationError("--redis-host/PB_REDIS_HOST is empty: give the Redis server's address") }
        if username != nil, password == nil {
            throw ConfigurationError("--redis-username/PB_REDIS_USERNAME needs --redis-password/PB_REDIS_PASSWORD (a Redis ACL user logs in with both)")
        }
    }
}
