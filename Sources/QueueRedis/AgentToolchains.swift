import BuildCore
import Foundation

/// Hub mode's ``ToolchainSource``: what the live agents advertise in Redis (``RedisSchema/agents``,
/// written with every agent heartbeat). An agent is live when it advertised within
/// ``liveWindow``.
///
/// - With live agents, the offer is theirs combined (``ToolchainOffer/combining(_:pinned:proxy:)``):
///   a build none of them can serve fails at once with the rule's message, instead of
///   waiting in a queue nobody reads.
/// - With no live agent at all (a hub started before its agents), the hub plans with
///   `fallback` (its own `--go` and module proxy): the job waits in its toolchain's queue
///   for an agent that can take it.
/// - The agents are read at most once per ``refreshInterval`` (every download request,
///   cache hits included, asks for an offer). When Redis cannot be reached the last answer
///   is used, so hits are still served.
public actor AgentToolchains: ToolchainSource {
    public let client: RedisClient
    public let schema: RedisSchema
    public let fallback: any ToolchainSource
    public let pinned: GoVersion?
    public let proxy: String
    public let liveWindow: Duration
    public let refreshInterval: Duration
    private let clock = ContinuousClock()
    private var cached: (at: ContinuousClock.Instant, agents: [AgentAdvertisement])?

    public init(
        client: RedisClient, schema: RedisSchema, fallback: any ToolchainSource, pinned: GoVersion?, proxy: String,
        liveWindow: Duration = .seconds(60), refreshInterval: Duration = .seconds(2)
    ) {
        self.client = client
        self.schema = schema
        self.fallback = fallback
        self.pinned = pinned
        self.proxy = proxy
        self.liveWindow = liveWindow
        self.refreshInterval = refreshInterval
    }

    public func offer() async throws(ProxError) -> ToolchainOffer {
        let agents = await liveAgents()
        if agents.isEmpty { return try await fallback.offer() }
        return .combining(agents, pinned: pinned, proxy: proxy)
    }

    /// The agents that advertised within ``liveWindow``, by name.
    public func liveAgents() async -> [AgentAdvertisement] {
        await listing().filter(\.live).map(\.agent)
    }

    /// Every advertisement in Redis, by name, and whether its agent is live.
    public func listing() async -> [(agent: AgentAdvertisement, live: Bool)] {
        let oldest = RedisBuildService.milliseconds(Date()) - RedisSchema.milliseconds(liveWindow)
        return await agents().map { ($0, $0.seen >= oldest) }
    }

    /// Every advertisement in Redis (live or not), by name.
    public func agents() async -> [AgentAdvertisement] {
        if let cached, clock.now - cached.at < refreshInterval { return cached.agents }
        do throws(RedisError) {
            let fields = try await client.send(["HGETALL", schema.agents]).fields
            var agents: [AgentAdvertisement] = []
            for (name, text) in fields {
                guard var agent = try? JSONDecoder.prox.decode(AgentAdvertisement.self, from: Data(text.utf8)) else { continue }
                agent.name = name
                agents.append(agent)
            }
            agents.sort { $0.name < $1.name }
            cached = (clock.now, agents)
            return agents
        } catch {
            return cached?.agents ?? []
        }
    }
}
