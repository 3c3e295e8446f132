import Foundation
import Synchronization

/// Who is asking, for per-client limits: `ip:<address>` (an IPv6 address by its /64), or
/// `token:<the first 16 hex digits of the token's SHA-256>` when the request carries a token.
public typealias ClientID = String

/// A count per period: `30/h`, `600/m`; zero means no limit.
public struct Rate: Sendable, Equatable, CustomStringConvertible {
    public var count: Int
    public var period: Duration

    public init(_ count: Int, per period: Duration) {
        self.count = count
        self.period = period
    }

    public static let unlimited = Rate(0, per: .seconds(1))
    public var isLimited: Bool { count > 0 }

    public var description: String {
        guard isLimited else { return "unlimited" }
        let seconds = period.components.seconds
        let unit = seconds == 3600 ? "h" : seconds == 60 ? "m" : seconds == 1 ? "s" : "/\(seconds)s"
        return "\(count)/\(unit)"
    }
}

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

/// The in-process record of who started which builds, for ``BuildLimits``' per-client
/// limits (standalone mode; hub mode keeps the same in Redis). Memory is bounded: at most
/// `maxClients` clients are tracked; past it, clients with nothing running and no start in
/// the current period are forgotten first.
public struct ClientLedger: Sendable {
    struct Entry {
        var starts: [ContinuousClock.Instant] = []
        var active: Set<String> = []
    }

    public let maxClients: Int
    private var clients: [ClientID: Entry] = [:]
    private var owners: [String: ClientID] = [:]

    public init(maxClients: Int = 100_000) {
        self.maxClients = maxClients
    }

    /// Throws when `client` may not start a new build now.
    public mutating func admit(_ client: ClientID, limits: BuildLimits, now: ContinuousClock.Instant = .now) throws(ProxError) {
        guard var entry = clients[client] else { return }
        let rate = limits.clientBuildRate
        if rate.isLimited {
            entry.starts.removeAll { now - $0 >= rate.period }
            clients[client] = entry
            if entry.starts.count >= rate.count, let oldest = entry.starts.first {
                let wait = rate.period - (now - oldest)
                throw limits.overRate(client, retryAfter: max(1, Int(wait.components.seconds) + 1))
            }
        }
        if limits.clientConcurrent > 0, entry.active.count >= limits.clientConcurrent {
            throw limits.overConcurrency(client)
        }
    }

    /// Records that `client` started build `id`.
    public mutating func started(_ client: ClientID, build id: String, limits: BuildLimits, now: ContinuousClock.Instant = .now) {
        if clients[client] == nil, clients.count >= maxClients { forgetIdle(now: now, period: limits.clientBuildRate.period) }
        guard clients[client] != nil || clients.count < maxClients else { return }  // every tracked client is busy: not tracked
        clients[client, default: Entry()].starts.append(now)
        clients[client, default: Entry()].active.insert(id)
        owners[id] = client
    }

    /// Records that build `id` has ended.
    public mutating func finished(_ id: String) {
        guard let client = owners.removeValue(forKey: id) else { return }
        clients[client]?.active.remove(id)
    }

    /// Clients tracked now.
    public var count: Int { clients.count }

    private mutating func forgetIdle(now: ContinuousClock.Instant, period: Duration) {
        clients = clients.filter { _, entry in !entry.active.isEmpty || entry.starts.contains { now - $0 < period } }
    }
}

/// Counts requests per client (`--client-request-rate`): every request, cache hits
/// included, so one client cannot take the whole server.
///
/// Contract: ``count(_:)`` returns nil when the request is within the limit, else the
/// seconds until the client may send again. It never throws: a limiter that cannot count
/// (its store is down) lets requests through.
public protocol RequestRateLimiter: Sendable {
    func count(_ client: ClientID) async -> Int?
}

/// The in-process ``RequestRateLimiter``: a counter per client per fixed window of the
/// rate's period. At most `maxClients` clients are counted in one window; past that, new
/// clients are let through uncounted until the window ends (memory stays bounded).
public final class MemoryRateLimiter: RequestRateLimiter {
    public let rate: Rate
    public let maxClients: Int
    private let state = Mutex<(window: Int64, counts: [ClientID: Int])>((0, [:]))
    private let start = ContinuousClock.now

    public init(rate: Rate, maxClients: Int = 100_000) {
        self.rate = rate
        self.maxClients = maxClients
    }

    public func count(_ client: ClientID) async -> Int? {
        count(client, now: .now)
    }

    func count(_ client: ClientID, now: ContinuousClock.Instant) -> Int? {
        guard rate.isLimited else { return nil }
        let elapsed = now - start
        let period = max(rate.period.components.seconds, 1)
        let window = elapsed.components.seconds / period
        return state.withLock { state -> Int? in
            if state.window != window {
                state = (window, [:])
            }
            guard state.counts[client] != nil || state.counts.count < maxClients else { return nil }
            let count = state.counts[client, default: 0] + 1
            state.counts[client] = count
            guard count > rate.count else { return nil }
            return Int((window + 1) * period - elapsed.components.seconds)
        }
    }
}
