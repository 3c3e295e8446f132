import Foundation

/// What this server has learned about which plugin versions build with which Caddy
/// versions (issue 15): every finished build leaves facts behind, and the plan
/// (`/api/download/plan`) and `/api/packages/{path}/compatibility` read them back.
///
/// A fact is about one plugin in one build:
/// - a build that succeeded is a success for every plugin in it;
/// - a build whose compiler error names a file of one plugin's module (the first error
///   line, `<module>@<version>/<file>:<line>:<col>: <message>`) is a failure of that
///   plugin, with that line;
/// - every other failure (a timeout, memory, a toolchain, an error in Caddy or in a shared
///   dependency, a cancelled build) says nothing about any one plugin, and leaves no fact.
public struct CompatibilityFact: Sendable, Codable, Equatable {
    /// The plugin's package path (as the catalog lists it) and its module's exact version.
    public var path: String
    public var module: String
    public var version: String
    public var caddyVersion: String
    public var goVersion: String
    public var target: String
    public var succeeded: Bool
    /// The compiler's first error line, for a failure (paths up to the module's own files).
    public var error: String?
    public var at: Date

    public init(
        path: String, module: String, version: String, caddyVersion: String, goVersion: String, target: String, succeeded: Bool,
        error: String?, at: Date
    ) {
        self.path = path
        self.module = module
        self.version = version
        self.caddyVersion = caddyVersion
        self.goVersion = goVersion
        self.target = target
        self.succeeded = succeeded
        self.error = error
        self.at = at
    }

    /// The facts a finished build leaves: `error` nil for a success.
    public static func facts(of build: ResolvedBuild, error: ProxError?, at date: Date = Date()) -> [CompatibilityFact] {
        func fact(_ plugin: ResolvedModule, succeeded: Bool, error: String?) -> CompatibilityFact {
            CompatibilityFact(
                path: plugin.path, module: plugin.module, version: plugin.version.description, caddyVersion: build.caddyVersion.description,
                goVersion: build.settings.goVersion, target: build.platform.description, succeeded: succeeded, error: error, at: date
            )
        }
        // Replaced plugins are someone's fork: what they do says nothing of the module's release.
        let plugins = build.plugins.filter { $0.replacement == nil }
        guard let error else { return plugins.map { fact($0, succeeded: true, error: nil) } }
        guard error.kind == .buildFailed, let blame = CompilerBlame.find(in: error.message),
            let plugin = plugins.first(where: { $0.module == blame.module && $0.version.description == blame.version })
        else { return [] }
        return [fact(plugin, succeeded: false, error: blame.line)]
    }
}

/// The module the Go compiler blamed for a failed build: the one whose file the first
/// error line names. The go command prints files of the module cache as
/// `<GOMODCACHE>/<escaped module path>@<version>/<file>` (or, with `-trimpath`, from the
/// module path on); module paths are case-escaped there (`!a` for `A`).
public struct CompilerBlame: Sendable, Equatable {
    public let module: String
    public let version: String
    /// The error line from the module's own file name on: `broken.go:27:13: cannot use ...`.
    public let line: String

    public init(module: String, version: String, line: String) {
        self.module = module
        self.version = version
        self.line = line
    }

    public static func find(in output: String) -> CompilerBlame? {
        for raw in output.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), let at = line.firstIndex(of: "@") else { continue }
            // `<...>/<module>@<version>/<file>:<line>:<col>: <message>`
            let afterAt = line[line.index(after: at)...]
            guard let slash = afterAt.firstIndex(of: "/") else { continue }
            let version = String(afterAt[..<slash])
            guard SemanticVersion(version) != nil else { continue }
            let file = afterAt[afterAt.index(after: slash)...]
            guard Self.isPosition(file) else { continue }
            guard let module = Self.modulePath(endingBefore: line[..<at]) else { continue }
            return CompilerBlame(module: module, version: version, line: String(file))
        }
        return nil
    }

    /// `name.go:27:13: message` (or `name.go:27: message`).
    static func isPosition(_ text: Substring) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].hasSuffix(".go"), Int(parts[1]) != nil else { return false }
        return true
    }

    /// The module path that ends at `@`: what follows the module cache's root (`$GOMODCACHE/`,
    /// as Prox's logs show it, or `/pkg/mod/`), else from the first domain-like element
    /// (`github.com/...`) on; unescaped.
    static func modulePath(endingBefore prefix: Substring) -> String? {
        var path = Substring(prefix)
        for marker in ["$GOMODCACHE/", "/pkg/mod/"] {
            if let range = path.range(of: marker, options: .backwards) {
                path = path[range.upperBound...]
                break
            }
        }
        let elements = path.split(separator: "/")
        guard let start = elements.firstIndex(where: { $0.contains(".") && !$0.hasPrefix(".") }),
            let unescaped = unescape(elements[start...].joined(separator: "/")),
            (try? ModuleSpec.validateModulePath(unescaped)) != nil
        else { return nil }
        return unescaped
    }

    /// The module cache's case escaping undone (`!a` → `A`); nil for a malformed escape.
    static func unescape(_ text: String) -> String? {
        var result = ""
        var bang = false
        for character in text {
            if bang {
                guard character.isLowercase, character.isASCII else { return nil }
                result.append(character.uppercased())
                bang = false
            } else if character == "!" {
                bang = true
            } else {
                result.append(character)
            }
        }
        return bang ? nil : result
    }
}

/// What is known about one plugin version with one Caddy version, over every toolchain
/// and target it was built for.
public struct CompatibilitySummary: Sendable, Codable, Equatable {
    public var path: String
    public var version: String
    public var caddyVersion: String
    public var builds: Int
    public var succeeded: Int
    public var failed: Int
    /// The newest failure's compiler line.
    public var lastError: String?
    public var targets: [String]
    public var goVersions: [String]
    public var lastAt: Date

    enum CodingKeys: String, CodingKey {
        case path, version, caddyVersion = "caddy_version", builds, succeeded, failed, lastError = "last_error", targets
        case goVersions = "go_versions", lastAt = "last_at"
    }

    /// One summary per (version, Caddy version), newest plugin version first, then newest Caddy.
    public static func summarize(_ rows: [CompatibilityRow]) -> [CompatibilitySummary] {
        var groups: [String: CompatibilitySummary] = [:]
        var lastFailure: [String: Date] = [:]
        for row in rows {
            let id = row.version + " " + row.caddyVersion
            var summary = groups[id] ?? CompatibilitySummary(
                path: row.path, version: row.version, caddyVersion: row.caddyVersion, builds: 0, succeeded: 0, failed: 0, lastError: nil,
                targets: [], goVersions: [], lastAt: row.lastAt
            )
            summary.succeeded += row.succeeded
            summary.failed += row.failed
            summary.builds += row.succeeded + row.failed
            if !summary.targets.contains(row.target) { summary.targets.append(row.target) }
            if !summary.goVersions.contains(row.goVersion) { summary.goVersions.append(row.goVersion) }
            summary.lastAt = max(summary.lastAt, row.lastAt)
            if row.failed > 0, let error = row.lastError, row.lastAt >= lastFailure[id] ?? .distantPast {
                summary.lastError = error
                lastFailure[id] = row.lastAt
            }
            groups[id] = summary
        }
        return groups.values.map { summary in
            var sorted = summary
            sorted.targets.sort()
            sorted.goVersions.sort()
            return sorted
        }.sorted { a, b in
            let (va, vb) = (SemanticVersion(a.version), SemanticVersion(b.version))
            if a.version != b.version, let va, let vb { return va > vb }
            let (ca, cb) = (SemanticVersion(a.caddyVersion), SemanticVersion(b.caddyVersion))
            if a.caddyVersion != b.caddyVersion, let ca, let cb { return ca > cb }
            return (a.version, a.caddyVersion) > (b.version, b.caddyVersion)
        }
    }

    /// The sentence the plan and the UI show before a build of this combination, when it
    /// failed before.
    public var warning: String? {
        guard failed > 0 else { return nil }
        return "\(path) \(version) failed with Caddy \(caddyVersion) on \(failed) of \(builds) build\(builds == 1 ? "" : "s")"
            + (lastError.map { ": " + $0 } ?? "")
    }

    /// The newest version of the plugin known to build with `caddyVersion` (a success
    /// and no failure with it), other than `version`.
    public static func suggestion(in summaries: [CompatibilitySummary], caddyVersion: String, instead version: String) -> String? {
        summaries.filter { $0.caddyVersion == caddyVersion && $0.version != version && $0.succeeded > 0 && $0.failed == 0 }
            .compactMap { SemanticVersion($0.version) }.max()?.description
    }
}

/// One stored count: a plugin version with a Caddy version, a toolchain and a target.
public struct CompatibilityRow: Sendable, Codable, Equatable {
    public var path: String
    public var version: String
    public var caddyVersion: String
    public var goVersion: String
    public var target: String
    public var succeeded: Int
    public var failed: Int
    /// The newest failure's compiler line.
    public var lastError: String?
    /// Whether the newest build of the row succeeded.
    public var lastSucceeded: Bool
    public var lastAt: Date

    public init(
        path: String, version: String, caddyVersion: String, goVersion: String, target: String, succeeded: Int, failed: Int, lastError: String?,
        lastSucceeded: Bool, lastAt: Date
    ) {
        self.lastSucceeded = lastSucceeded
        self.path = path
        self.version = version
        self.caddyVersion = caddyVersion
        self.goVersion = goVersion
        self.target = target
        self.succeeded = succeeded
        self.failed = failed
        self.lastError = lastError
        self.lastAt = lastAt
    }
}

extension CompatibilityRow {
    /// The row's newest build, as the catalog shows it.
    public var lastBuild: LastBuild {
        LastBuild(
            version: version, caddyVersion: caddyVersion, target: target, succeeded: lastSucceeded, at: lastAt,
            error: lastSucceeded ? nil : lastError
        )
    }

    /// Adds `fact` (of this row's key) to the counts.
    public mutating func add(_ fact: CompatibilityFact) {
        if fact.succeeded { succeeded += 1 } else { failed += 1 }
        if let error = fact.error { lastError = error }
        if fact.at >= lastAt {
            lastSucceeded = fact.succeeded
            lastAt = fact.at
        }
    }

    /// The row `fact` starts.
    public init(_ fact: CompatibilityFact) {
        self.init(
            path: fact.path, version: fact.version, caddyVersion: fact.caddyVersion, goVersion: fact.goVersion, target: fact.target,
            succeeded: fact.succeeded ? 1 : 0, failed: fact.succeeded ? 0 : 1, lastError: fact.error, lastSucceeded: fact.succeeded, lastAt: fact.at
        )
    }

    /// The key a row is stored under: `version caddy go target`.
    public var field: String { [version, caddyVersion, goVersion, target].joined(separator: " ") }
}

/// A package's newest fact: the "last build" the catalog shows.
public struct LastBuild: Sendable, Codable, Equatable {
    public var version: String
    public var caddyVersion: String
    public var target: String
    public var succeeded: Bool
    public var at: Date
    public var error: String?

    public init(version: String, caddyVersion: String, target: String, succeeded: Bool, at: Date, error: String?) {
        self.version = version
        self.caddyVersion = caddyVersion
        self.target = target
        self.succeeded = succeeded
        self.at = at
        self.error = error
    }

    enum CodingKeys: String, CodingKey { case version, caddyVersion = "caddy_version", target, succeeded, at, error }
}

/// Where compatibility facts are kept: the hub's SQLite index standalone, Redis in hub
/// mode (so every hub sees every agent's builds).
///
/// Contract: ``record(_:)`` adds facts to the counts of their (path, version, Caddy
/// version, Go version, target) and keeps the newest failure's line; it never throws (a
/// store that cannot write logs and drops the facts: they are knowledge, not state).
/// ``rows(forPackage:)`` returns every count of one package; ``lastBuilds()`` the newest
/// fact of every package.
public protocol CompatibilityStore: Sendable {
    func record(_ facts: [CompatibilityFact]) async
    func rows(forPackage path: String) async throws(ProxError) -> [CompatibilityRow]
    func lastBuilds() async throws(ProxError) -> [String: LastBuild]
}
