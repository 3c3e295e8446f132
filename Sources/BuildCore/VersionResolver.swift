import Foundation

/// Turns a ``BuildRequest`` into a ``ResolvedBuild`` with exact versions, through the Go
/// module proxy protocol.
///
/// - An absent version (or `latest`) is the highest *release* in `@v/list`; pre-releases
///   are used only when asked for exactly. A module with no tags resolves through `@latest`.
/// - A pinned version is checked to exist (`@v/<v>.info`).
/// - A branch or commit (`@master`, `@a1b2c3d`) is resolved to the exact version the proxy
///   names for it (`@v/master.info`: a pseudo-version), and re-resolved after ``ttl``.
/// - A package path that is not itself a module is looked up at each shorter prefix until
///   a module is found, as `go get` does.
/// - Answers are cached for ``ttl``; failures are not cached.
/// - With a ``ToolchainSource``, the Go toolchain is chosen here too, before the cache key:
///   the `go` and `toolchain` lines of the resolved versions' go.mod files (`@v/<v>.mod`,
///   cached for as long as the process runs: a version's go.mod never changes) give the
///   need, and ``ToolchainRule`` picks from the source's offer.
public actor VersionResolver {
    public let proxy: any ModuleProxyClient
    public nonisolated let ttl: Duration
    public let toolchains: (any ToolchainSource)?
    private let clock = ContinuousClock()
    private var cache: [String: (expires: ContinuousClock.Instant, value: ResolvedModule)] = [:]
    private var listCache: (expires: ContinuousClock.Instant, value: [SemanticVersion])?
    private var goModCache: [String: GoModFile] = [:]
    /// Dependencies whose go.mod could not be fetched or read, until when not to ask again.
    private var goModMisses: [String: ContinuousClock.Instant] = [:]
    /// The need of a set of exact modules (immutable, so kept), when every go.mod was read.
    private var requirements: [String: GoRequirement?] = [:]
    /// The toolchain source's last offer, asked again at most every second, and the choices
    /// made under it (cache hits ask for the same ones again and again).
    private var offered: (at: ContinuousClock.Instant, offer: ToolchainOffer)?
    private var choices: [GoRequirement?: ToolchainChoice] = [:]

    public init(proxy: any ModuleProxyClient, ttl: Duration = .seconds(300), toolchains: (any ToolchainSource)? = nil) {
        self.proxy = proxy
        self.ttl = ttl
        self.toolchains = toolchains
    }

    /// Resolves every version in `request`, building with `settings`; with a toolchain
    /// source, `settings.goVersion` is replaced by the toolchain chosen for this build.
    public func resolve(_ request: BuildRequest, settings: BuildSettings) async throws(ProxError) -> ResolvedBuild {
        let caddy = try await resolve(request.caddySpec)
        var plugins: [ResolvedModule] = []
        for spec in request.plugins {
            plugins.append(try await resolve(spec))
        }
        guard let toolchains else {
            return ResolvedBuild(platform: request.platform, caddyVersion: caddy.version, plugins: plugins, settings: settings)
        }
        let need = try await requirement(of: [caddy] + plugins)
        let offer = try await currentOffer(from: toolchains)
        let choice: ToolchainChoice
        if let known = choices[need] {
            choice = known
        } else {
            choice = try ToolchainRule.choose(need: need, offer: offer)
            if choices.count > 1_000 { choices.removeAll() }
            choices[need] = choice
        }
        var chosen = settings
        chosen.goVersion = choice.version.toolchainName
        return ResolvedBuild(platform: request.platform, caddyVersion: caddy.version, plugins: plugins, settings: chosen, toolchain: choice)
    }

    /// The source's offer, asked at most once a second; a changed offer forgets the choices
    /// made under the old one.
    private func currentOffer(from source: any ToolchainSource) async throws(ProxError) -> ToolchainOffer {
        let now = clock.now
        if let offered, now - offered.at < .seconds(1) { return offered.offer }
        let offer = try await source.offer()
        if offered?.offer != offer { choices.removeAll() }
        offered = (now, offer)
        return offer
    }

    /// The highest `go`/`toolchain` line among the go.mod files of `modules` (a replaced
    /// plugin's replacement is read instead) and of the modules they require, each at the
    /// highest version any of them requires (what minimal version selection picks in the
    /// pruned module graph of Go 1.17 and later), or nil when none has one.
    ///
    /// The go command refuses to build when any module in the build list needs a newer Go
    /// than it runs, so the dependencies count as much as Caddy and the plugins. Their
    /// go.mod files are fetched eight at a time and cached like the others; one that cannot
    /// be fetched or read is left out (the build then reports it), while an unreadable go.mod
    /// of Caddy or a plugin is an error.
    public func requirement(of modules: [ResolvedModule]) async throws(ProxError) -> GoRequirement? {
        let key = modules.map(\.description).joined(separator: " ")
        if let known = requirements[key] { return known }
        var best: GoRequirement?
        func consider(_ file: GoModFile, _ name: String) {
            if let need = file.need, need > (best?.version ?? GoVersion(minor: 0, patch: nil)) {
                best = GoRequirement(version: need, module: name)
            }
        }
        var dependencies: [String: SemanticVersion] = [:]
        let top = Set(modules.map { $0.replacement?.path ?? $0.module } + [BuildRequest.caddyModulePath])
        for module in modules {
            let (path, version) = module.replacement.map { ($0.path, $0.version.description) } ?? (module.module, module.version.description)
            let file = try await goMod(module: path, version: version)
            consider(file, "\(path)@\(version)")
            for required in file.requires where !top.contains(required.path) {
                if let known = dependencies[required.path], known >= required.version { continue }
                dependencies[required.path] = required.version
            }
        }
        let wanted = dependencies.map { (module: $0.key, version: $0.value.description) }.sorted { $0.module < $1.module }
        let files = await dependencyGoMods(wanted)
        for (name, file) in files { consider(file, name) }
        if files.count == wanted.count {
            if requirements.count > 10_000 { requirements.removeAll() }
            requirements[key] = best
        }
        return best
    }

    /// The go.mod files of `wanted` that could be fetched and read, by `module@version`, in
    /// the order given.
    private func dependencyGoMods(_ wanted: [(module: String, version: String)]) async -> [(String, GoModFile)] {
        var found: [String: GoModFile] = [:]
        var missing: [(module: String, version: String)] = []
        let now = clock.now
        for item in wanted {
            let name = "\(item.module)@\(item.version)"
            if let hit = goModCache[name] {
                found[name] = hit
            } else if let retry = goModMisses[name], retry > now {
                continue
            } else {
                missing.append(item)
            }
        }
        let proxy = self.proxy
        await withTaskGroup(of: (String, GoModFile?).self) { group in
            var next = missing.makeIterator()
            func add() -> Bool {
                guard let item = next.next() else { return false }
                group.addTask {
                    let text = try? await proxy.goMod(module: item.module, version: item.version)
                    return ("\(item.module)@\(item.version)", text.flatMap { GoModFile($0) })
                }
                return true
            }
            for _ in 0..<8 where add() {}
            while let (name, file) = await group.next() {
                if let file { found[name] = file }
                _ = add()
            }
        }
        if goModCache.count + found.count > 10_000 { goModCache.removeAll() }
        for (name, file) in found { goModCache[name] = file }
        if goModMisses.count > 10_000 { goModMisses.removeAll() }
        for item in missing where found["\(item.module)@\(item.version)"] == nil {
            goModMisses["\(item.module)@\(item.version)"] = clock.now.advanced(by: ttl)
        }
        return wanted.compactMap { item in found["\(item.module)@\(item.version)"].map { ("\(item.module)@\(item.version)", $0) } }
    }

    /// The parsed go.mod of `module@version`; a missing or unreadable one is an error (and is
    /// not cached), so a proxy answering garbage never chooses a toolchain.
    public func goMod(module: String, version: String) async throws(ProxError) -> GoModFile {
        let key = "\(module)@\(version)"
        if let hit = goModCache[key] { return hit }
        guard let text = try await proxy.goMod(module: module, version: version) else {
            throw ProxError(.upstreamUnavailable, "the module proxy has no go.mod for \(key) (@v/\(version).mod): check --goproxy")
        }
        guard let file = GoModFile(text) else {
            let start = String(text.prefix(60)).replacingOccurrences(of: "\n", with: " ")
            throw ProxError(
                .upstreamUnavailable,
                "the module proxy answered \(key)'s go.mod (@v/\(version).mod) with something that is not a go.mod file (it starts \(Platform.quoted(start))): check --goproxy"
            )
        }
        if goModCache.count > 10_000 { goModCache.removeAll() }
        goModCache[key] = file
        return file
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
        let cacheKey = "\(path)@\(spec.version?.description ?? spec.revision.map { "rev:" + $0 } ?? "latest")"
        if let hit = cache[cacheKey], hit.expires > clock.now {
            return ResolvedModule(path: hit.value.path, module: hit.value.module, version: hit.value.version, replacement: spec.replacement)
        }
        var candidate = path
        while true {
            if let version = try await lookup(module: candidate, version: spec.version, revision: spec.revision) {
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
        if let r = spec.revision {
            throw ProxError(.moduleNotFound, "\(path)@\(r) was not found through the module proxy: check the path and that the branch or commit exists")
        }
        throw ProxError(.moduleNotFound, "\(path) was not found through the module proxy: check the package path")
    }

    /// The exact version of `module` (nil if the proxy does not know the module/version).
    private func lookup(module: String, version: SemanticVersion?, revision: String?) async throws(ProxError) -> SemanticVersion? {
        if let revision {
            // proxy.golang.org answers a branch's or commit's .info with its pseudo-version (or tag).
            guard let info = try await proxy.info(module: module, version: revision) else { return nil }
            guard let exact = SemanticVersion(info) else {
                throw ProxError(.upstreamUnavailable, "module proxy resolved \(module)@\(revision) to the unreadable version \(Platform.quoted(info))")
            }
            return exact
        }
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
