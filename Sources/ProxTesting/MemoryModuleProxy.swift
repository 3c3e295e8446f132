import BuildCore

/// A ``ModuleProxyClient`` over modules held in memory: each module's versions and their
/// go.mod files. `@latest` is the highest release (else the highest pre-release), as
/// proxy.golang.org answers it; `.info` knows exactly the listed versions.
public struct MemoryModuleProxy: ModuleProxyClient {
    public let goproxy: String
    private let modules: [String: [String: String]]
    /// When set, every query fails with it (an unreachable proxy).
    public var failure: ProxError?

    /// `modules`: module path → version → go.mod text.
    public init(_ modules: [String: [String: String]], goproxy: String = "memory://proxy") {
        self.modules = modules
        self.goproxy = goproxy
    }

    /// A go.mod file: `module`, an optional `go` line and `require`s.
    public static func goMod(_ module: String, go: String? = nil, requires: [(String, String)] = []) -> String {
        var text = "module \(module)\n"
        if let go { text += "\ngo \(go)\n" }
        if !requires.isEmpty {
            text += "\nrequire (\n" + requires.map { "\t\($0.0) \($0.1)\n" }.joined() + ")\n"
        }
        return text
    }

    public func versionList(module: String) async throws(ProxError) -> [String]? {
        if let failure { throw failure }
        return modules[module].map { $0.keys.sorted() }
    }

    public func info(module: String, version: String) async throws(ProxError) -> String? {
        if let failure { throw failure }
        return modules[module]?[version] == nil ? nil : version
    }

    public func goMod(module: String, version: String) async throws(ProxError) -> String? {
        if let failure { throw failure }
        return modules[module]?[version]
    }

    public func latest(module: String) async throws(ProxError) -> String? {
        if let failure { throw failure }
        let versions = (modules[module].map { Array($0.keys) } ?? []).compactMap { SemanticVersion($0) }
        let releases = versions.filter { !$0.isPrerelease }
        return (releases.max() ?? versions.max())?.description
    }
}
