import BuildCore
import Foundation

/// Everything `proxagent` is configured with: defaults, then flags, then `PB_*`
/// variables (which win), then one ``validate()``.
public struct AgentConfiguration: Sendable, Equatable {
    public var redis = RedisSettings()
    /// The hub the agent pushes artifacts to, e.g. `http://hub.internal:8080`.
    public var hubURL = ""
    public var pushToken = ""
    public var simultaneousJobs = 2
    /// The local go commands (`--go`, repeatable; `PB_GO`, comma-separated), the default first.
    public var goExecutables = ["go"]
    /// Let builds download the toolchain they need through GOPROXY (`--toolchain-download`).
    public var toolchainDownload = true
    /// The default go command (the first `--go`); setting it makes it the only one.
    public var goExecutable: String {
        get { goExecutables.first ?? "go" }
        set { goExecutables = [newValue] }
    }
    public var goproxy = ProcessInfo.processInfo.environment["GOPROXY"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://proxy.golang.org,direct"
    /// Warm GOMODCACHE/GOCACHE and build directories.
    public var workDirectory = "./agent-data"
    public var buildTimeout: Duration = .seconds(600)
    public var maxAttempts = 3
    public var jobLease: Duration = .seconds(30)
    public var shutdownTimeout: Duration = .seconds(60)
    public var name = AgentConfiguration.defaultName
    public var logLevel = "info"
    /// A CA certificate (PEM) to trust for an https hub beside the system's roots (`--hub-ca`).
    public var hubCA: String?
    /// Memory, CPUs and disk of each build.
    public var buildResources = ResourceSettings.defaults
    /// The bound of GOCACHE and of GOMODCACHE, each; nil: none.
    public var goCacheMaxSize = ResourceSettings.goCacheMaxSize

    /// `--metrics-port`: serve `/metrics` on this port; nil: no metrics server.
    public var metricsPort: Int?
    /// `--metrics-host`: the address the metrics server listens on.
    public var metricsHost = "127.0.0.1"

    public init() {}

    /// `<host name>-<pid>`: unique per running agent, readable in build records.
    public static var defaultName: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "agent"
        return "\(host)-\(getpid())"
    }

    /// proxagent's settings with their documentation.
    static let table = SettingsTable(
        command: "proxagent", abstract: "Prox build agent: runs Caddy builds queued by proxhub --hub and pushes the binaries to the hub.",
        settings: settings, docs: docs)

    /// How each setting is applied (in no particular order; ``docs`` gives the order).
    static let settings: [Setting<AgentConfiguration>] =
        ResourceSettings.settings(\.buildResources) + [ResourceSettings.goCacheSetting(\.goCacheMaxSize)] + RedisSettings.settings(\.redis)
        + BuildHostSettings.settings(
            go: \.goExecutables, toolchainDownload: \.toolchainDownload, goproxy: \.goproxy, simultaneousJobs: \.simultaneousJobs,
            buildTimeout: \.buildTimeout, logLevel: \.logLevel) + [
            Setting(flag: "--hub-url", env: "PB_HUB_URL") { c, v throws(ConfigurationError) in
                c.hubURL = v.hasSuffix("/") ? String(v.dropLast()) : v
            },
            Setting(flag: "--push-token", env: "PB_PUSH_TOKEN") { c, v throws(ConfigurationError) in c.pushToken = v },
            Setting(flag: "--hub-ca", env: "PB_HUB_CA") { c, v throws(ConfigurationError) in c.hubCA = v },
            Setting(flag: "--work-dir", env: "PB_WORK_DIR") { c, v throws(ConfigurationError) in c.workDirectory = v },
            Setting(flag: "--max-attempts", env: "PB_MAX_ATTEMPTS") { c, v throws(ConfigurationError) in
                c.maxAttempts = try SettingValue.integer(v, in: 1...100, "--max-attempts", "PB_MAX_ATTEMPTS")
            },
            Setting(flag: "--job-lease", env: "PB_JOB_LEASE") { c, v throws(ConfigurationError) in
                c.jobLease = try SettingValue.duration(v, "--job-lease", "PB_JOB_LEASE")
            },
            Setting(flag: "--shutdown-timeout", env: "PB_SHUTDOWN_TIMEOUT") { c, v throws(ConfigurationError) in
                c.shutdownTimeout = try SettingValue.duration(v, "--shutdown-timeout", "PB_SHUTDOWN_TIMEOUT")
            },
            Setting(flag: "--agent-name", env: "PB_AGENT_NAME") { c, v throws(ConfigurationError) in c.name = v },
            Setting(flag: "--metrics-port", env: "PB_METRICS_PORT") { c, v throws(ConfigurationError) in
                c.metricsPort = v.isEmpty || v == "off" ? nil : try SettingValue.integer(v, in: 0...65535, "--metrics-port", "PB_METRICS_PORT")
            },
            Setting(flag: "--metrics-host", env: "PB_METRICS_HOST") { c, v throws(ConfigurationError) in
                guard !v.isEmpty else { throw ConfigurationError("--metrics-host/PB_METRICS_HOST is empty: give an address such as 127.0.0.1 or 0.0.0.0") }
                c.metricsHost = v
            },
        ]

    public static func resolve(flags: [String: String], environment: [String: String]) throws(ConfigurationError) -> AgentConfiguration {
        let configuration = try Setting.apply(settings, to: AgentConfiguration(), flags: flags, environment: environment)
        try configuration.validate()
        return configuration
    }

    public func validate() throws(ConfigurationError) {
        try redis.validate()
        guard let url = URL(string: hubURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError("--hub-url/PB_HUB_URL is required: the hub's address as http(s)://host:port, where agents push artifacts")
        }
        if pushToken.isEmpty {
            throw ConfigurationError("--push-token/PB_PUSH_TOKEN is required: the same token the hub was started with")
        }
        if workDirectory.isEmpty { throw ConfigurationError("--work-dir/PB_WORK_DIR is empty: give a directory for Go caches and builds") }
        try SettingValue.validateBuildSettings(goproxy: goproxy, buildTimeout: buildTimeout)
        if jobLease < .seconds(1) { throw ConfigurationError("--job-lease/PB_JOB_LEASE must be at least 1 second") }
        guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw ConfigurationError("--agent-name/PB_AGENT_NAME: \(name) must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
    }
}
