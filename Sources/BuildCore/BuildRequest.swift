/// A validated request for a Caddy build, before versions are resolved.
public struct BuildRequest: Hashable, Sendable, Codable {
    public static let caddyModulePath = "github.com/caddyserver/caddy/v2"
    public static let maxPlugins = 64

    public var platform: Platform
    /// An exact Caddy version, or nil for the newest release (or ``caddyRevision``).
    public var caddyVersion: SemanticVersion?
    /// A branch or commit of Caddy (`master`), resolved to its pseudo-version like a plugin's.
    public var caddyRevision: String?
    /// Plugins, de-duplicated, in the order given.
    public var plugins: [ModuleSpec]

    public init(platform: Platform, caddyVersion: SemanticVersion? = nil, caddyRevision: String? = nil, plugins: [ModuleSpec] = []) {
        self.platform = platform
        self.caddyVersion = caddyVersion
        self.caddyRevision = caddyRevision
        self.plugins = plugins
    }

    /// Caddy as a module spec: the version, the revision, or neither (latest).
    public var caddySpec: ModuleSpec {
        get throws(ProxError) { try ModuleSpec(path: Self.caddyModulePath, version: caddyVersion, revision: caddyRevision) }
    }

    /// What a request may ask for, set by the operator.
    public struct Policy: Sendable, Equatable {
        /// Allow `path=replacement@version` (module replacements only).
        public var allowReplacements: Bool
        public init(allowReplacements: Bool = false) { self.allowReplacements = allowReplacements }
    }

    /// Builds a request from the download API's parameters: `os`, `arch`, `arm`, repeated `p`,
    /// `version`, `caddy_version`. Caddy itself may be pinned as `p=github.com/caddyserver/caddy/v2@vX`;
    /// the three ways of naming Caddy's version must agree.
    public init(
        os: String?, arch: String?, arm: String?, packages: [String],
        version: String?, caddyVersion: String?, policy: Policy
    ) throws(ProxError) {
        let platform = try Platform(os: os ?? "", arch: arch ?? "", arm: arm)
        var caddy: [(source: String, version: SemanticVersion?, revision: String?)] = []
        for (name, value) in [("version", version), ("caddy_version", caddyVersion)] {
            guard let value else { continue }
            let parsed = try ModuleSpec.parseQuery(value, of: "Caddy (\(name)=)")
            if parsed.version != nil || parsed.revision != nil { caddy.append((name, parsed.version, parsed.revision)) }
        }
        guard packages.count <= Self.maxPlugins else {
            throw .invalid("too many packages (\(packages.count)): at most \(Self.maxPlugins) p= values per build")
        }
        var plugins: [ModuleSpec] = []
        for text in packages {
            let spec = try ModuleSpec(parsing: text)
            if spec.path == Self.caddyModulePath || spec.path.hasPrefix(Self.caddyModulePath + "/") {
                guard spec.path == Self.caddyModulePath, spec.replacement == nil else {
                    throw .invalid("p=\(Platform.quoted(text)): Caddy can only be pinned as p=\(Self.caddyModulePath)@vX.Y.Z")
                }
                if spec.version != nil || spec.revision != nil { caddy.append(("p=\(Self.caddyModulePath)", spec.version, spec.revision)) }
                continue
            }
            if spec.replacement != nil, !policy.allowReplacements {
                throw .invalid("p=\(Platform.quoted(text)): replacements are disabled on this server; send the package without =...")
            }
            if let existing = plugins.first(where: { $0.path == spec.path }) {
                guard existing == spec else {
                    throw .invalid("package \(spec.path) is given twice with different versions (\(existing), \(spec)): send it once")
                }
                continue
            }
            plugins.append(spec)
        }
        func shown(_ c: (source: String, version: SemanticVersion?, revision: String?)) -> String {
            c.version?.description ?? c.revision ?? "latest"
        }
        if let first = caddy.first, let other = caddy.first(where: { shown($0) != shown(first) }) {
            throw .invalid(
                "conflicting Caddy versions: \(first.source) says \(shown(first)) but \(other.source) says \(shown(other)); send one"
            )
        }
        self.init(platform: platform, caddyVersion: caddy.first?.version, caddyRevision: caddy.first?.revision, plugins: plugins)
    }
}
