

/// The Go toolchains a server (or a hub's live agents) can build with.
public struct ToolchainOffer: Sendable, Equatable {
    /// Versions of the local go commands, the default first.
    public var local: [GoVersion]
    /// Release versions of `golang.org/toolchain` the module proxy lists for the build
    /// host's os/arch (empty when downloads are off or the proxy lists none).
    public var downloadable: [GoVersion]
    /// False when `--toolchain-download=false`: only local toolchains may be used.
    public var downloadsAllowed: Bool
    /// `--go-version`: every build uses this toolchain.
    public var pinned: GoVersion?
    /// Where downloads come from, for messages (the GOPROXY list).
    public var proxy: String

    public init(local: [GoVersion], downloadable: [GoVersion] = [], downloadsAllowed: Bool = true, pinned: GoVersion? = nil, proxy: String = "") {
        self.local = local
        self.downloadable = downloadable
        self.downloadsAllowed = downloadsAllowed
        self.pinned = pinned
        self.proxy = proxy
    }

    /// Every release version a build may use, local or downloadable.
    public var available: Set<GoVersion> {
        Set((local + (downloadsAllowed ? downloadable : [])).filter(\.isRelease))
    }
}

/// Where a build's ``ToolchainOffer`` comes from: the local go commands and the module
/// proxy (standalone, agents), or the live agents' advertisements (hub mode).
///
/// Contract: ``offer()`` is cheap after the first call (implementations cache what they
/// fetch); it throws `.unavailable` or `.upstreamUnavailable` only when it cannot say
/// anything at all (no live agent, proxy down with no cached list and no local toolchain).
public protocol ToolchainSource: Sendable {
    func offer() async throws(ProxError) -> ToolchainOffer
}
