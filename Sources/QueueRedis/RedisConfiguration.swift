/// Where and how to reach Redis.
public struct RedisConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// A Redis 6 ACL user; nil for the default user.
    public var username: String?
    public var password: String?
    public var connectTimeout: Duration
    /// Limit for one ordinary command. Blocking commands pass their own, longer limit.
    public var commandTimeout: Duration

    public init(
        host: String = "localhost", port: Int = 6379, username: String? = nil, password: String? = nil,
        connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    /// `host:port`, for messages.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
