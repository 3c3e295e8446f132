/// What went wrong talking to Redis.
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Redis could not be reached, or the connection broke (the command may or may not
        /// have run). The connection reconnects by itself on the next command.
        case connection
        /// Redis refused the credentials (AUTH): retrying will not help.
        case authentication
        /// Redis ran the command and answered with an error reply.
        case server
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
