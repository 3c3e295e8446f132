import Foundation

/// Who is asking, for per-client limits: `ip:<address>` (an IPv6 address by its /64), or
/// `token:<the first 16 hex digits of the token's SHA-256>` when the request carries a token.
public typealias ClientID = String

/// The in-process record of who started which builds, for ``BuildLimits``' per-client
/// limits (standalone mode; hub mode keeps the same in Redis). Memory is bounded: at most
/// `maxClients` clients are tracked; past it, clients with nothing running and no start in
/// the current period are forgotten first.
public struct ClientLedger: Sendable {
    struct Entry {
        var starts: [ContinuousClock.Instant] = []
        var active: Set<BuildID> = []
    }

    public let maxClients: Int
    private var clients: [ClientID: Entry] = [:]
    private var owners: [BuildID: ClientID] = [:]

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
    public mutating func started(_ client: ClientID, build id: BuildID, limits: BuildLimits, now: ContinuousClock.Instant = .now) {
        if clients[client] == nil, clients.count >= maxClients { forgetIdle(now: now, period: limits.clientBuildRate.period) }
        guard clients[client] != nil || clients.count < maxClients else { return }  // every tracked client is busy: not tracked
        clients[client, default: Entry()].starts.append(now)
        clients[client, default: Entry()].active.insert(id)
        owners[id] = client
    }

    /// Records that build `id` has ended.
    public mutating func finished(_ id: BuildID) {
        guard let client = owners.removeValue(forKey: id) else { return }
        clients[client]?.active.remove(id)
    }

    /// Clients tracked now.
    public var count: Int { clients.count }

    private mutating func forgetIdle(now: ContinuousClock.Instant, period: Duration) {
        clients = clients.filter { _, entry in !entry.active.isEmpty || entry.starts.contains { now - $0 < period } }
    }
}
