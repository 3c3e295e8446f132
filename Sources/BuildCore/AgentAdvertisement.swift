import Foundation

/// What a build agent tells the hubs about itself, every heartbeat: its slots and the
/// toolchains it can build with. Hubs choose each build's toolchain from the live agents'
/// advertisements (see ``ToolchainOffer/combining(_:)``).
public struct AgentAdvertisement: Sendable, Codable, Equatable {
    public var name: String
    /// The build host's GOOS-GOARCH (toolchains are downloaded for it).
    public var host: String
    public var slots: Int
    public var running: Int
    /// The default toolchain (`go env GOVERSION` of its first `--go`).
    public var go: String
    /// Every local toolchain, the default first.
    public var toolchains: [String]
    /// True when the agent may download toolchains through its GOPROXY.
    public var download: Bool
    /// Release versions its module proxy lists for `host` (empty when downloads are off).
    public var downloadable: [String]
    /// When the agent last said so (Unix milliseconds).
    public var seen: Int64

    public init(
        name: String, host: String = ToolchainModule.hostTarget, slots: Int, running: Int, go: String, toolchains: [String],
        download: Bool, downloadable: [String], seen: Int64
    ) {
        self.name = name
        self.host = host
        self.slots = slots
        self.running = running
        self.go = go
        self.toolchains = toolchains
        self.download = download
        self.downloadable = downloadable
        self.seen = seen
    }

    private enum CodingKeys: String, CodingKey { case name, host, slots, running, go, toolchains, download, downloadable, seen }

    /// Older agents advertised only `go`, `slots`, `running` and `seen`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        go = try c.decode(String.self, forKey: .go)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? ToolchainModule.hostTarget
        slots = try c.decodeIfPresent(Int.self, forKey: .slots) ?? 0
        running = try c.decodeIfPresent(Int.self, forKey: .running) ?? 0
        toolchains = try c.decodeIfPresent([String].self, forKey: .toolchains) ?? [go]
        download = try c.decodeIfPresent(Bool.self, forKey: .download) ?? false
        downloadable = try c.decodeIfPresent([String].self, forKey: .downloadable) ?? []
        seen = try c.decodeIfPresent(Int64.self, forKey: .seen) ?? 0
    }
}

extension ToolchainOffer {
    /// What a set of live agents offers together: every local toolchain of any of them
    /// (the first agent's default first), and the downloadable versions of those that may
    /// download. `pinned` and `proxy` are the hub's.
    public static func combining(_ agents: [AgentAdvertisement], pinned: GoVersion?, proxy: String) -> ToolchainOffer {
        var local: [GoVersion] = []
        var downloadable: Set<GoVersion> = []
        for agent in agents {
            for version in agent.toolchains.compactMap(GoVersion.init) where !local.contains(version) { local.append(version) }
            if agent.download { downloadable.formUnion(agent.downloadable.compactMap(GoVersion.init)) }
        }
        return ToolchainOffer(
            local: local, downloadable: downloadable.sorted(), downloadsAllowed: agents.contains(where: \.download), pinned: pinned, proxy: proxy
        )
    }
}
