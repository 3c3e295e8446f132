import BuildCore

/// What `/api/toolchains` reads: where builds' toolchains come from, and which ones are
/// already downloaded.
public struct ToolchainStatus: Sendable {
    public let source: any ToolchainSource
    public let downloaded: @Sendable () async -> [GoVersion]
    /// Why the module proxy's toolchain list could not be read, if it could not.
    public let proxyError: @Sendable () async -> ProxError?
    /// Hub mode: every agent's advertisement, and whether the agent is live.
    public let agents: (@Sendable () async -> [(agent: AgentAdvertisement, live: Bool)])?

    public init(
        source: any ToolchainSource, downloaded: @escaping @Sendable () async -> [GoVersion],
        proxyError: @escaping @Sendable () async -> ProxError? = { nil },
        agents: (@Sendable () async -> [(agent: AgentAdvertisement, live: Bool)])? = nil
    ) {
        self.source = source
        self.downloaded = downloaded
        self.proxyError = proxyError
        self.agents = agents
    }
}
