
/// A build with every version exact: what the cache key is computed from and what the
/// runner builds. Plugins are kept sorted by path.
public struct ResolvedBuild: Hashable, Sendable, Codable {
    public let platform: Platform
    public let caddyVersion: SemanticVersion
    public let plugins: [ResolvedModule]
    public let settings: BuildSettings
    /// Why ``settings``' Go version was chosen (nil when the caller chose it). Not part of the
    /// cache key: only the version is, through ``BuildSettings/goVersion``.
    public let toolchain: ToolchainChoice?

    public init(
        platform: Platform, caddyVersion: SemanticVersion, plugins: [ResolvedModule], settings: BuildSettings, toolchain: ToolchainChoice? = nil
    ) {
        self.platform = platform
        self.caddyVersion = caddyVersion
        self.plugins = plugins.sorted { $0.path < $1.path }
        self.settings = settings
        self.toolchain = toolchain
    }

    /// The canonical encoding hashed into the ``CacheKey``. One `name=value` line each,
    /// `\n`-terminated, in this order:
    ///
    ///     prox-build/1
    ///     target=<GOOS>/<GOARCH>[/v<GOARM>]
    ///     caddy=github.com/caddyserver/caddy/v2@<version>
    ///     go=<go env GOVERSION>
    ///     cgo=0
    ///     trimpath=<0|1>
    ///     ldflags=<flags>
    ///     tags=<comma-separated, as given>
    ///     plugin=<package path> <module>@<version>[ => <module>@<version>]   (one per plugin, sorted by package path)
    ///
    /// Changing it changes every key: bump the first line's version when you do.
    public var canonicalEncoding: String {
        var lines = [
            "prox-build/1",
            "target=\(platform.os)/\(platform.arch)" + (platform.arm.map { "/v\($0)" } ?? ""),
            "caddy=\(BuildRequest.caddyModulePath)@\(caddyVersion)",
            "go=\(settings.goVersion)",
            "cgo=0",
            "trimpath=\(settings.trimpath ? 1 : 0)",
            "ldflags=\(settings.ldflags)",
            "tags=\(settings.tags.joined(separator: ","))",
        ]
        for plugin in plugins {
            var line = "plugin=\(plugin.path) \(plugin.module)@\(plugin.version)"
            if let r = plugin.replacement { line += " => \(r.path)@\(r.version)" }
            lines.append(line)
        }
        return lines.map { $0 + "\n" }.joined()
    }

    public var cacheKey: CacheKey { CacheKey(encoding: canonicalEncoding) }
}
