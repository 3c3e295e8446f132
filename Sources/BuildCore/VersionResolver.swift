import Foundation

/// Turns a ``BuildRequest`` into a ``ResolvedBuild`` with exact versions, through the Go
/// module proxy protocol.
///
/// - An absent version (or `latest`) is the highest *release* in `@v/list`; pre-releases
///   are used only when asked for exactly. A module with no tags resolves through `@latest`.
/// - A pinned version is checked to exist (`@v/<v>.info`).
/// - A package path that is not itself a module is looked up at each shorter prefix until
///   a module is found, as `go get` does.
/// - Answers are cached for ``ttl``; failures are not cached.
public actor VersionResolver {
    public let proxy: ModuleProxy
    public let ttl: Duration
    private let clock = ContinuousClock()
    private var cache: [String: (expires: ContinuousClock.Instant, value: ResolvedModule)] = [:]
    private var listCache: (expires: ContinuousClock.Instant, value: [SemanticVersion])?

    public init(proxy: ModuleProxy, ttl: Duration = .seconds(300)) {
        self.proxy = proxy
        self.ttl = ttl
    }

    /// Resolves every version in `request`, building with `settings`.
    public func resolve(_ request: BuildRequest, settings: BuildSettings) async throws(ProxError) -> ResolvedBuild {
        let caddy = try await resolve(ModuleSpec(path: BuildRequest.caddyModulePath, version: request.caddyVersion))
        var plugins: [ResolvedModule] = []
        for spec in request.plugins {
            plugins.append(try await resolve(spec))
        }
        return ResolvedBuild(platform: request.platform, caddyVersion: caddy.version, plugins: plugins, settings: settings)
    }

    /// Caddy's releases, newest first (pre-releases included, marked by their version).
    public func caddyVersions() async throws(ProxError) -> [SemanticVersion] {
        if let cached = listCache, cached.expires > clock.now { return cached.value }
        guard let list = try await proxy.versionList(module: BuildRequest.caddyModulePath) else {
            throw ProxError(.upstreamUnavailable, "the module proxy does not know \(BuildRequest.caddyModulePath): check --goproxy")
        }
        let versions = list.compactMap { SemanticVersion($0) }.filter { !$0.isPseudoVersion }.sorted(by: >)
        listCache = (clock.now.advanced(by: ttl), versions)
        return versions
    }

    /// Resolves one module spec to an exact version.
    public func resolve(_ spec: ModuleSpec) async throws(ProxError) -> ResolvedModule {
        let path = spec.versionedPath
        let cacheKey = "\(path)@\(spec.version?.description ?? "latest")"
        if let hit = cache[cacheKey], hit.expires > clock.now {
            return ResolvedModule(path: hit.value.path, module: hit.value.module, version: hit.value.version, replacement: spec.replacement)
        }
        var candidate = path
        while true {
            if let version = try await lookup(module: candidate, version: spec.version) {
                let resolved = ResolvedModule(path: path, module: candidate, version: version, replacement: spec.replacement)
                cache[cacheKey] = (clock.now.advanced(by: ttl), resolved)
                if cache.count > 10_000 { cache.removeAll() }
                return resolved
            }
            guard let slash = candidate.lastIndex(of: "/") else { break }
            candidate = String(candidate[..<slash])
        }
        if let v = spec.version {
            throw ProxError(.moduleNotFound, "\(path)@\(v) was not found through the module proxy: check the path and that the version is tagged")
        }
        throw ProxError(.moduleNotFound, "\(path) was not found through the module proxy: check the package path")
    }

    /// The exact version of `module` (nil if the proxy does not know the module/version).
    private func lookup(module: String, version: SemanticVersion?) async throws(ProxError) -> SemanticVersion? {
        if let version {
            guard let info = try await proxy.info(module: module, version: version.description) else { return nil }
            return SemanticVersion(info) ?? version
        }
        guard let list = try await proxy.versionList(module: module) else { return nil }
        let versions = list.compactMap { SemanticVersion($0) }.filter { !$0.isPseudoVersion }
        if let newest = versions.filter({ !$0.isPrerelease }).max() { return newest }
        if !versions.isEmpty {
            let shown = versions.sorted(by: >).prefix(5).map(\.description).joined(separator: ", ")
            throw ProxError(.moduleNotFound, "\(module) has only pre-releases (\(shown)): ask for one exactly, e.g. \(module)@\(versions.max()!)")
        }
        // No tags: the proxy's @latest names a pseudo-version.
        guard let latest = try await proxy.latest(module: module) else { return nil }
        guard let version = SemanticVersion(latest) else {
            throw ProxError(.upstreamUnavailable, "module proxy gave \(module) the unreadable version \(Platform.quoted(latest))")
        }
        return version
    }
}
