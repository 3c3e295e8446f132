import Foundation

/// What a build service admits (issue 11): a bound on builds waiting, and per client, new
/// builds per period and builds queued or running at once. Joining a build in flight and
/// cache hits are never refused by these.
public struct BuildLimits: Sendable, Equatable {
    /// Builds waiting for a slot or an agent; past it a new build is refused with 503
    /// (`--max-queued-builds`; 0: no bound).
    public var maxQueued = 50
    /// New builds one client may start (`--client-build-rate`).
    public var clientBuildRate = Rate(30, per: .seconds(3600))
    /// Builds one client may have queued or running at once (`--client-concurrent-builds`; 0: no limit).
    public var clientConcurrent = 3
    /// `Retry-After` for a full queue, and for a client at its concurrency limit.
    public var retryAfter = 30

    public init() {}

    /// No bounds at all (embedding, tests).
    public static var unlimited: BuildLimits {
        var limits = BuildLimits()
        limits.maxQueued = 0
        limits.clientBuildRate = .unlimited
        limits.clientConcurrent = 0
        return limits
    }

    public func queueFull(waiting: Int) -> ProxError {
        ProxError(
            .unavailable,
            "the build queue is full (\(waiting) builds waiting, --max-queued-builds \(maxQueued)): retry in \(retryAfter) s; cached builds are still served",
            retryAfter: retryAfter
        )
    }

    public func overRate(_ client: ClientID, retryAfter: Int) -> ProxError {
        ProxError(
            .rateLimited,
            "\(Self.describe(client)) has started \(clientBuildRate.count) builds in the last \(Self.describe(clientBuildRate.period)) (--client-build-rate \(clientBuildRate)): retry in \(retryAfter) s; cached builds are still served",
            retryAfter: retryAfter
        )
    }

    public func overConcurrency(_ client: ClientID) -> ProxError {
        ProxError(
            .rateLimited,
            "\(Self.describe(client)) already has \(clientConcurrent) builds queued or running (--client-concurrent-builds \(clientConcurrent)): wait for one to finish, or retry in \(retryAfter) s",
            retryAfter: retryAfter
        )
    }

    /// How a message names a client: by address, or "this token".
    public static func describe(_ client: ClientID) -> String {
        if client.hasPrefix("ip:") { return "client \(client.dropFirst(3))" }
        if client.hasPrefix("token:") { return "this token" }
        return "client \(client)"
    }

    static func describe(_ period: Duration) -> String {
        let seconds = period.components.seconds
        return seconds == 3600 ? "hour" : seconds == 60 ? "minute" : "\(seconds) s"
    }
}
