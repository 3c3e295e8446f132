import Foundation
import Synchronization

/// Counts requests per client (`--client-request-rate`): every request, cache hits
/// included, so one client cannot take the whole server.
///
/// Contract: ``count(_:)`` returns nil when the request is within the limit, else the
/// seconds until the client may send again. It never throws: a limiter that cannot count
/// (its store is down) lets requests through.
public protocol RequestRateLimiter: Sendable {
    func count(_ client: ClientID) async -> Int?

    /// How to count without suspending, for a limiter that can (in-process, or no limit at
    /// all): requests answered on a connection's event loop (the download fast path) are
    /// counted through it, with the same result as ``count(_:)``. Nil: this limiter needs a
    /// round trip (Redis), and such requests take the ordinary path.
    var immediateCounter: (@Sendable (ClientID) -> Int?)? { get }
}

extension RequestRateLimiter {
    public var immediateCounter: (@Sendable (ClientID) -> Int?)? { nil }
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

    public var immediateCounter: (@Sendable (ClientID) -> Int?)? {
        { client in self.count(client, now: .now) }
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
