import BuildCore

/// What `/api/toolchains` reads: where builds' toolchains come from, and which ones are
/// already downloaded.
public struct ToolchainStatus: Sendable {
    public let source: any ToolchainSource
    public let downloaded: @Sendable () async -> [GoVersion]
    /// Why the module proxy's toolchain list could not be read, if it could not.
    public let proxyError: @Sendable () async -> ProxError?
    /// Hub mode: every agent's advertisement, and the names of the live ones.
    public let agents: (@Sendable () async -> [AgentAdvertisement])?
    public let isLive: @Sendable () async -> [String]

    public init(
        source: any ToolchainSource, downloaded: @escaping @Sendable () async -> [GoVersion],
        proxyError: @escaping @Sendable () async -> ProxError? = { nil }, agents: (@Sendable () async -> [AgentAdvertisement])? = nil,
        isLive: @escaping @Sendable () async -> [String] = { [] }
    ) {
        self.source = source
        self.downloaded = downloaded
        self.proxyError = proxyError
        self.agents = agents
        self.isLive = isLive
    }
}
