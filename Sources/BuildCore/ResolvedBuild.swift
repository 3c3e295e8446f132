import Crypto

/// A plugin with its exact version: the package path that `main.go` imports, the module
/// that provides it and the version of that module.
public struct ResolvedModule: Hashable, Sendable, Codable, CustomStringConvertible {
    public let path: String
    public let module: String
    public let version: SemanticVersion
    public let replacement: ModuleSpec.Replacement?

    public init(path: String, module: String, version: SemanticVersion, replacement: ModuleSpec.Replacement? = nil) {
        self.path = path
        self.module = module
        self.version = version
        self.replacement = replacement
    }

    public var description: String { "\(path)@\(version)" + (replacement.map { "=\($0)" } ?? "") }
}

/// How the Go toolchain is asked to build: the toolchain chosen for the build (see
/// ``ToolchainRule``) and the flags, all part of the cache key so a change of toolchain or
/// flags never serves an old binary.
public struct BuildSettings: Hashable, Sendable, Codable {
    /// The toolchain, as `go env GOVERSION` prints it, e.g. `go1.23.5`.
    public var goVersion: String
    public var tags: [String]
    public var ldflags: String
    public var trimpath: Bool

    public init(goVersion: String, tags: [String] = ["nobadger", "nomysql", "nopgx"], ldflags: String = "-w -s", trimpath: Bool = true) {
        self.goVersion = goVersion
        self.tags = tags
        self.ldflags = ldflags
        self.trimpath = trimpath
    }
}

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

/// SHA-256 (lower-case hex) of a ``ResolvedBuild``'s canonical encoding: the same inputs
/// give the same key on every machine.
public struct CacheKey: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let hex: String

    public init(encoding: String) {
        self.hex = SHA256.hash(data: Array(encoding.utf8)).hexString
    }

    /// Accepts a key as stored or sent: 64 lower-case hex digits.
    public init?(hex: String) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        self.hex = hex
    }

    public var description: String { hex }
    public static func < (lhs: CacheKey, rhs: CacheKey) -> Bool { lhs.hex < rhs.hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let key = CacheKey(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a cache key"))
        }
        self = key
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hexString: String {
        var out = ""
        for byte in self {
            out.append(Character(Unicode.Scalar(UInt8(ascii: "0") &+ (byte >> 4) &+ (byte >> 4 > 9 ? 39 : 0))))
            out.append(Character(Unicode.Scalar(UInt8(ascii: "0") &+ (byte & 15) &+ (byte & 15 > 9 ? 39 : 0))))
        }
        return out
    }
}
