/// What a build needs of Go: the highest `go`/`toolchain` line among the go.mod files of
/// the resolved Caddy version and plugins, and the module that asked for it.
public struct GoRequirement: Hashable, Sendable, Codable, CustomStringConvertible {
    public let version: GoVersion
    /// `module@version` whose go.mod set ``version``.
    public let module: String

    public init(version: GoVersion, module: String) {
        self.version = version
        self.module = module
    }

    public var description: String { "\(module) needs go >= \(version)" }
}

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

/// The toolchain chosen for one build; the version is part of the cache key (through
/// ``BuildSettings/goVersion``), the rest explains the choice in logs and the API.
public struct ToolchainChoice: Hashable, Sendable, Codable {
    public enum Source: String, Sendable, Codable {
        /// A go command on this host (`--go`).
        case local
        /// `golang.org/toolchain` through the module proxy (cached in GOMODCACHE after the first build).
        case download
    }

    public let version: GoVersion
    public let source: Source
    /// Nil when no go.mod has a `go` line, or the toolchain is pinned.
    public let requirement: GoRequirement?
    /// One sentence: why this toolchain.
    public let reason: String

    public init(version: GoVersion, source: Source, requirement: GoRequirement?, reason: String) {
        self.version = version
        self.source = source
        self.requirement = requirement
        self.reason = reason
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

/// Prox's toolchain rule (see docs/operations.md, "Toolchains"):
///
/// 1. `--go-version` pins one toolchain: used for every build that does not need a newer Go.
/// 2. With no `go` line anywhere, the default (first local) toolchain.
/// 3. Otherwise the newest patch release of the needed minor version (`1.N`) that is at
///    least the need, local or downloadable (security fixes; local wins a tie).
/// 4. If that minor has no such release (older than 1.21, or a proxy without it), the newest
///    release of the lowest minor above it: never older than needed, and never a newer
///    minor than needed when the needed one exists (new Go breaks old Caddy).
/// 5. Nothing at or above the need: `.toolchainUnavailable`, naming the module, the
///    version, what is available and the flags that would fix it.
public enum ToolchainRule {
    public static func choose(need: GoRequirement?, offer: ToolchainOffer) throws(ProxError) -> ToolchainChoice {
        let available = offer.available
        func source(_ v: GoVersion) -> ToolchainChoice.Source { offer.local.contains(v) ? .local : .download }

        if let pinned = offer.pinned {
            if let need, need.version > pinned {
                throw ProxError(
                    .toolchainUnavailable,
                    "\(need.module) needs go >= \(need.version), but this server pins \(pinned.toolchainName) for every build (--go-version): "
                        + "raise or remove --go-version"
                )
            }
            guard offer.local.contains(pinned) || offer.downloadsAllowed else {
                throw ProxError(
                    .toolchainUnavailable,
                    "\(pinned.toolchainName) (--go-version) is not a local toolchain and downloads are off (--toolchain-download=false): "
                        + "give its go command with --go, or allow downloads"
                )
            }
            return ToolchainChoice(version: pinned, source: source(pinned), requirement: need, reason: "\(pinned.toolchainName) is pinned by --go-version")
        }

        guard let need else {
            if let first = offer.local.first {
                return ToolchainChoice(version: first, source: .local, requirement: nil, reason: "no go.mod has a go line: the default toolchain")
            }
            guard let newest = available.max() else { throw nothingAvailable(offer) }
            return ToolchainChoice(version: newest, source: source(newest), requirement: nil, reason: "no go.mod has a go line: the newest toolchain")
        }

        let sameMinor = available.filter { $0.minor == need.version.minor && $0 >= need.version }
        if let best = sameMinor.max() {
            return ToolchainChoice(
                version: best, source: source(best), requirement: need,
                reason: "\(need): the newest go1.\(need.version.minor) release" + (source(best) == .download ? " (downloaded through the module proxy)" : "")
            )
        }
        let above = available.filter { $0.minor > need.version.minor }
        if let lowestMinor = above.map(\.minor).min(), let best = above.filter({ $0.minor == lowestMinor }).max() {
            return ToolchainChoice(
                version: best, source: source(best), requirement: need,
                reason: "\(need); no go1.\(need.version.minor) release is available, so the newest release of the next minor, go1.\(lowestMinor)"
                    + (source(best) == .download ? " (downloaded through the module proxy)" : "")
            )
        }
        throw ProxError(.toolchainUnavailable, "\(need), and no toolchain at or above it is available: \(describe(offer)); " + remedy(offer))
    }

    static func nothingAvailable(_ offer: ToolchainOffer) -> ProxError {
        ProxError(.toolchainUnavailable, "no Go toolchain is available: \(describe(offer)); " + remedy(offer))
    }

    /// `local go1.22.12; downloadable go1.21.13 ... go1.23.5 through <proxy>`.
    static func describe(_ offer: ToolchainOffer) -> String {
        var parts: [String] = []
        parts.append(offer.local.isEmpty ? "no local toolchain" : "local " + offer.local.map(\.toolchainName).joined(separator: ", "))
        if !offer.downloadsAllowed {
            parts.append("downloads off (--toolchain-download=false)")
        } else if offer.downloadable.isEmpty {
            parts.append("the module proxy \(offer.proxy) lists no golang.org/toolchain release for this host")
        } else {
            let sorted = offer.downloadable.sorted()
            let range = sorted.count == 1 ? sorted[0].toolchainName : "\(sorted.first!.toolchainName) to \(sorted.last!.toolchainName)"
            parts.append("downloadable \(range) through \(offer.proxy)")
        }
        return parts.joined(separator: "; ")
    }

    static func remedy(_ offer: ToolchainOffer) -> String {
        if !offer.downloadsAllowed {
            return "allow downloads (--toolchain-download=true) or add a newer Go with --go"
        }
        return "add a newer Go with --go, or use a module proxy that serves golang.org/toolchain (--goproxy)"
    }
}

/// The `golang.org/toolchain` module the go command downloads toolchains as.
public enum ToolchainModule {
    public static let path = "golang.org/toolchain"

    /// This host's GOOS and GOARCH (toolchains run on the build host, whatever the target).
    public static var hostTarget: String {
        #if os(Linux)
        let os = "linux"
        #elseif os(macOS)
        let os = "darwin"
        #elseif os(FreeBSD)
        let os = "freebsd"
        #else
        let os = "unknown"
        #endif
        #if arch(x86_64)
        let arch = "amd64"
        #elseif arch(arm64)
        let arch = "arm64"
        #elseif arch(i386)
        let arch = "386"
        #elseif arch(arm)
        let arch = "arm"
        #else
        let arch = "unknown"
        #endif
        return "\(os)-\(arch)"
    }

    /// `v0.0.1-go1.23.5.linux-amd64`.
    public static func moduleVersion(_ version: GoVersion, host: String = hostTarget) -> String {
        "v0.0.1-\(version.toolchainName).\(host)"
    }

    /// The release versions in a `golang.org/toolchain/@v/list` for `host`.
    public static func releases(inList list: [String], host: String = hostTarget) -> [GoVersion] {
        let suffix = "." + host
        return list.compactMap { entry -> GoVersion? in
            guard entry.hasPrefix("v0.0.1-go"), entry.hasSuffix(suffix) else { return nil }
            let name = entry.dropFirst("v0.0.1-".count).dropLast(suffix.count)
            guard let version = GoVersion(String(name)), version.isRelease, version.toolchainName == name else { return nil }
            return version
        }
    }
}
