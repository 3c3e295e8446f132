

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
