
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
