/// The toolchains one build host offers: its local go commands, and the release versions of
/// `golang.org/toolchain` the module proxy lists for its os/arch (when downloads are on).
///
/// The proxy's list is cached for `ttl`. When the proxy cannot be reached the last list is
/// kept (or none, the first time): local toolchains still build, and ``lastError`` says why
/// nothing is downloadable.
public actor ToolchainInventory: ToolchainSource {
    public let proxy: any ModuleProxyClient
    public let local: [GoVersion]
    public let downloadsAllowed: Bool
    public let pinned: GoVersion?
    public let ttl: Duration
    public let host: String
    private let clock = ContinuousClock()
    private var listed: (expires: ContinuousClock.Instant, versions: [GoVersion])?
    public private(set) var lastError: ProxError?

    public init(
        proxy: any ModuleProxyClient, local: [GoVersion], downloadsAllowed: Bool, pinned: GoVersion? = nil, ttl: Duration = .seconds(300),
        host: String = ToolchainModule.hostTarget
    ) {
        self.proxy = proxy
        self.local = local
        self.downloadsAllowed = downloadsAllowed
        self.pinned = pinned
        self.ttl = ttl
        self.host = host
    }

    public func offer() async throws(ProxError) -> ToolchainOffer {
        ToolchainOffer(
            local: local, downloadable: downloadsAllowed ? await downloadable() : [], downloadsAllowed: downloadsAllowed, pinned: pinned,
            proxy: GoProxyFormat.displayed(proxy.goproxy)
        )
    }

    /// The release versions the proxy lists for this host, oldest first.
    public func downloadable() async -> [GoVersion] {
        if let listed, listed.expires > clock.now { return listed.versions }
        do {
            let list = try await proxy.versionList(module: ToolchainModule.path) ?? []
            let versions = ToolchainModule.releases(inList: list, host: host).sorted()
            listed = (clock.now.advanced(by: ttl), versions)
            lastError = nil
            return versions
        } catch {
            lastError = error
            let stale = listed?.versions ?? []
            // Ask again soon, not at every request.
            listed = (clock.now.advanced(by: min(ttl, .seconds(30))), stale)
            return stale
        }
    }
}
