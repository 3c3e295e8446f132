

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
