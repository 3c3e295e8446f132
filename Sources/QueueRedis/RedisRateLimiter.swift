import BuildCore
import Foundation
import Logging

/// The hub-mode ``RequestRateLimiter``: one counter per client per fixed window in Redis
/// (`rate:<client>:<window>`, expiring with the window), so every hub sharing the Redis
/// counts a client's requests together. One round trip per request; when Redis cannot
/// be reached the request is let through (cache hits keep being served during an outage).
public struct RedisRateLimiter: RequestRateLimiter {
    public let client: RedisClient
    public let schema: RedisSchema
    public let rate: Rate
    let logger: Logger

    public init(client: RedisClient, schema: RedisSchema, rate: Rate, logger: Logger) {
        self.client = client
        self.schema = schema
        self.rate = rate
        self.logger = logger
    }

    /// Without a limit nothing is counted, so nothing needs Redis.
    public var immediateCounter: (@Sendable (ClientID) -> Int?)? {
        if rate.isLimited { return nil }
        return { (_: ClientID) -> Int? in nil }
    }

    public func count(_ requester: ClientID) async -> Int? {
        guard rate.isLimited else { return nil }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let period = max(RedisSchema.milliseconds(rate.period), 1000)
        let window = now / period
        let key = schema.rate(requester, window: window)
        do {
            let replies = try await client.pipeline([["INCR", key], ["PEXPIRE", key, period]])
            guard let count = replies.first?.int, count > rate.count else { return nil }
            return Int(((window + 1) * period - now + 999) / 1000)
        } catch {
            logger.debug("request rate not counted: Redis is not reachable", metadata: ["error": "\(error.message)"])
            return nil
        }
    }
}
