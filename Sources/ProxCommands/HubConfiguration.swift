import BuildCore
import Foundation
import HTTPFront
import ObjectStorage

/// Everything `proxhub` is configured with. Defaults first, then flags, then `PB_*`
/// environment variables (which win, as in prox-builder), then one ``validate()``.
public struct HubConfiguration: Sendable, Equatable {
    public var host = "0.0.0.0"
    public var port = 8080
    public var dataDirectory = "./data"
    public var packageEndpoint = "https://caddyserver.com/api/packages"
    public var goproxy = ProcessInfo.processInfo.environment["GOPROXY"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://proxy.golang.org,direct"
    /// The local go commands (`--go`, repeatable; `PB_GO`, comma-separated), the default first.
    public var goExecutables = ["go"]
    /// Let builds download the toolchain they need through GOPROXY (`--toolchain-download`).
    public var toolchainDownload = true
    public var simultaneousJobs = 2
    public var buildTimeout: Duration = .seconds(600)
    public var cacheMaxSize: Int64 = 10_000_000_000
    /// How soon cache hits reach the index (not a flag: for embedding and tests; see
    /// ``ArtifactCache/Configuration/hitWriteInterval``).
    public var cacheHitWriteInterval: Duration = .seconds(1)
    public var allowUnlisted = false
    public var allowReplacements = false
    public var verifyOnRead = false
    public var catalogRefresh: Duration = .seconds(3600)
    public var resolveTTL: Duration = .seconds(300)
    public var sseHeartbeat: Duration = .seconds(15)
    public var logLevel = "info"
    /// Hub mode: serve and queue on Redis; agents build.
    public var hub = false
    /// prox-builder's `--agent`: refused with a pointer to `proxagent`.
    public var agent = false
    public var redis = RedisSettings()
    /// Shared with agents: they send it with each artifact they push.
    public var pushToken: String?
    /// `--go-version`: one toolchain for every build (standalone: local or downloaded; hub
    /// mode: the version agents build with, by default that of `--go` when it runs on the hub).
    public var goVersion: String?
    /// Connections: how many, how slow, how large (`--max-connections`, `--header-timeout`,
    /// `--idle-timeout`, `--body-timeout`).
    public var connectionLimits = ConnectionLimits()
    /// The bound on builds waiting, and per-client build limits (`--max-queued-builds`,
    /// `--client-build-rate`, `--client-concurrent-builds`).
    public var buildLimits = BuildLimits()
    /// Requests per client, cache hits included (`--client-request-rate`).
    public var clientRequestRate = Rate(600, per: .seconds(60))
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxies`).
    public var trustedProxies: [AddressRange] = []
    /// Tokens that open a private instance (`--pull-token`, several allowed).
    public var pullTokens: [String] = []
    /// The token of the admin API (`--admin-token`).
    public var adminToken: String?
    /// HTTPS: the certificate chain and private key, PEM (`--tls-cert`, `--tls-key`).
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// The Ed25519 key provenance and binaries are signed with (`--signing-key`); nil:
    /// `<data>/signing-key.pem`, made on first start.
    public var signingKey: String?
    /// Public keys of earlier signing keys, still published (`--signing-public-key`).
    public var retiredSigningKeys: [String] = []
    /// The share of new artifacts built again from scratch to check them (`--verify-rebuilds`).
    public var verifyRebuilds = 0.0
    /// Memory, CPUs and disk of each build (standalone).
    public var buildResources = ResourceSettings.defaults
    /// The bound of GOCACHE and of GOMODCACHE, each; nil: none.
    public var goCacheMaxSize = ResourceSettings.goCacheMaxSize
    /// `--storage s3://BUCKET[/PREFIX]`: artifacts in a bucket shared by hubs, the local disk
    /// a bounded read-through cache in front of it; nil: the local disk only.
    public var storage: String?
    /// `--s3-endpoint`: an S3-compatible server (path-style); nil: AWS's regional endpoint.
    public var s3Endpoint: String?
    public var s3Region = "us-east-1"
    /// The bucket's credentials (not a flag: for embedding and tests); nil: the
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` variables.
    public var s3Credentials: AWSCredentials?
    /// `--download-redirect`: hits answered with a redirect to the bucket or a CDN.
    public var downloadRedirect = DownloadRedirectSetting.off
    /// How long a presigned redirect URL stays valid (`--download-redirect-ttl`).
    public var downloadRedirectTTL: Duration = .seconds(3600)
    /// `--warm-top`: package sets rebuilt when a new Caddy release appears (0: off).
    public var warmTop = 0
    /// `--warm-window`: how far back downloads count for warming.
    public var warmWindow: Duration = .seconds(7 * 24 * 3600)
    /// `--warm-interval`: how often the module proxy is asked for a new release.
    public var warmInterval: Duration = .seconds(600)
    /// How often at most the Go caches are measured (not a flag: for embedding and tests).
    public var goCacheCheckInterval: Duration = .seconds(600)

    /// The default go command (the first `--go`); setting it makes it the only one.
    public var goExecutable: String {
        get { goExecutables.first ?? "go" }
        set { goExecutables = [newValue] }
    }

    public init() {}

    /// proxhub's settings with their documentation.
    static let table = SettingsTable(
        command: "proxhub", abstract: "Prox: a self-hosted, Caddy-compatible build service for custom Caddy binaries. To check a binary it built: proxhub verify --help.",
        settings: settings, docs: docs)

    /// How each setting is applied (in no particular order; ``docs`` gives the order).
    static let settings: [Setting<HubConfiguration>] = [
        Setting(flag: "--webserver-host", env: "PB_WEBSERVER_HOST") { c, v throws(ConfigurationError) in c.host = v },
        Setting(flag: "--webserver-port", env: "PB_WEBSERVER_PORT") { c, v throws(ConfigurationError) in
            c.port = try SettingValue.integer(v, in: 0...65535, "--webserver-port", "PB_WEBSERVER_PORT")
        },
        Setting(flag: "--binary-path", env: "PB_BINARY_PATH") { c, v throws(ConfigurationError) in c.dataDirectory = v },
        Setting(flag: "--package-endpoint", env: "PB_PACKAGE_ENDPOINT") { c, v throws(ConfigurationError) in c.packageEndpoint = v },
        Setting(flag: "--cache-max-size", env: "PB_CACHE_MAX_SIZE") { c, v throws(ConfigurationError) in
            c.cacheMaxSize = try SettingValue.byteSize(v, "--cache-max-size", "PB_CACHE_MAX_SIZE")
        },
        Setting(flag: "--allow-unlisted", env: "PB_ALLOW_UNLISTED", form: .switch) { c, v throws(ConfigurationError) in
            c.allowUnlisted = try SettingValue.boolean(v, "--allow-unlisted", "PB_ALLOW_UNLISTED")
        },
        Setting(flag: "--allow-replacements", env: "PB_ALLOW_REPLACEMENTS", form: .switch) { c, v throws(ConfigurationError) in
            c.allowReplacements = try SettingValue.boolean(v, "--allow-replacements", "PB_ALLOW_REPLACEMENTS")
        },
        Setting(flag: "--verify-on-read", env: "PB_VERIFY_ON_READ", form: .switch) { c, v throws(ConfigurationError) in
            c.verifyOnRead = try SettingValue.boolean(v, "--verify-on-read", "PB_VERIFY_ON_READ")
        },
        Setting(flag: "--catalog-refresh", env: "PB_CATALOG_REFRESH") { c, v throws(ConfigurationError) in
            c.catalogRefresh = try SettingValue.duration(v, "--catalog-refresh", "PB_CATALOG_REFRESH")
        },
        Setting(flag: "--resolve-ttl", env: "PB_RESOLVE_TTL") { c, v throws(ConfigurationError) in
            c.resolveTTL = try SettingValue.duration(v, "--resolve-ttl", "PB_RESOLVE_TTL")
        },
        Setting(flag: "--sse-heartbeat", env: "PB_SSE_HEARTBEAT") { c, v throws(ConfigurationError) in
            c.sseHeartbeat = try SettingValue.duration(v, "--sse-heartbeat", "PB_SSE_HEARTBEAT")
        },
        Setting(flag: "--hub", env: "PB_HUB", form: .switch) { c, v throws(ConfigurationError) in c.hub = try SettingValue.boolean(v, "--hub", "PB_HUB") },
        Setting(flag: "--agent", env: "PB_AGENT", form: .switch) { c, v throws(ConfigurationError) in c.agent = try SettingValue.boolean(v, "--agent", "PB_AGENT") },
        Setting(flag: "--push-token", env: "PB_PUSH_TOKEN") { c, v throws(ConfigurationError) in c.pushToken = v },
        Setting(flag: "--go-version", env: "PB_GO_VERSION") { c, v throws(ConfigurationError) in c.goVersion = try SettingValue.goVersion(v).toolchainName },
        Setting(flag: "--max-connections", env: "PB_MAX_CONNECTIONS") { c, v throws(ConfigurationError) in
            c.connectionLimits.maxConnections = try SettingValue.integer(v, in: 1...1_000_000, "--max-connections", "PB_MAX_CONNECTIONS")
        },
        Setting(flag: "--header-timeout", env: "PB_HEADER_TIMEOUT") { c, v throws(ConfigurationError) in
            c.connectionLimits.headerTimeout = try SettingValue.duration(v, "--header-timeout", "PB_HEADER_TIMEOUT")
        },
        Setting(flag: "--idle-timeout", env: "PB_IDLE_TIMEOUT") { c, v throws(ConfigurationError) in
            c.connectionLimits.idleTimeout = try SettingValue.duration(v, "--idle-timeout", "PB_IDLE_TIMEOUT")
        },
        Setting(flag: "--body-timeout", env: "PB_BODY_TIMEOUT") { c, v throws(ConfigurationError) in
            c.connectionLimits.bodyTimeout = try SettingValue.duration(v, "--body-timeout", "PB_BODY_TIMEOUT")
        },
        Setting(flag: "--max-queued-builds", env: "PB_MAX_QUEUED_BUILDS") { c, v throws(ConfigurationError) in
            c.buildLimits.maxQueued = try SettingValue.integer(v, in: 0...1_000_000, "--max-queued-builds", "PB_MAX_QUEUED_BUILDS")
        },
        Setting(flag: "--client-build-rate", env: "PB_CLIENT_BUILD_RATE") { c, v throws(ConfigurationError) in
            c.buildLimits.clientBuildRate = try SettingValue.rate(v, per: .seconds(3600), "--client-build-rate", "PB_CLIENT_BUILD_RATE")
        },
        Setting(flag: "--client-concurrent-builds", env: "PB_CLIENT_CONCURRENT_BUILDS") { c, v throws(ConfigurationError) in
            c.buildLimits.clientConcurrent = try SettingValue.integer(v, in: 0...100_000, "--client-concurrent-builds", "PB_CLIENT_CONCURRENT_BUILDS")
        },
        Setting(flag: "--client-request-rate", env: "PB_CLIENT_REQUEST_RATE") { c, v throws(ConfigurationError) in
            c.clientRequestRate = try SettingValue.rate(v, per: .seconds(60), "--client-request-rate", "PB_CLIENT_REQUEST_RATE")
        },
        Setting(flag: "--trusted-proxies", env: "PB_TRUSTED_PROXIES") { c, v throws(ConfigurationError) in
            c.trustedProxies = try SettingValue.addressRanges(v, "--trusted-proxies", "PB_TRUSTED_PROXIES")
        },
        Setting(flag: "--pull-token", env: "PB_PULL_TOKEN", form: .repeated) { c, v throws(ConfigurationError) in
            c.pullTokens = try SettingValue.tokens(v, "--pull-token", "PB_PULL_TOKEN")
        },
        Setting(flag: "--tls-cert", env: "PB_TLS_CERT") { c, v throws(ConfigurationError) in c.tlsCertificate = v },
        Setting(flag: "--tls-key", env: "PB_TLS_KEY") { c, v throws(ConfigurationError) in c.tlsKey = v },
        Setting(flag: "--signing-key", env: "PB_SIGNING_KEY") { c, v throws(ConfigurationError) in
            guard !v.isEmpty else { throw ConfigurationError("--signing-key/PB_SIGNING_KEY is empty: give the key file's path") }
            c.signingKey = v
        },
        Setting(flag: "--verify-rebuilds", env: "PB_VERIFY_REBUILDS") { c, v throws(ConfigurationError) in
            guard let fraction = Double(v.trimmingCharacters(in: .whitespaces)), (0...1).contains(fraction) else {
                throw ConfigurationError("--verify-rebuilds/PB_VERIFY_REBUILDS: \(v.debugDescription) is not a fraction from 0 to 1, e.g. 0.05 to rebuild one artifact in twenty")
            }
            c.verifyRebuilds = fraction
        },
        Setting(flag: "--signing-public-key", env: "PB_SIGNING_PUBLIC_KEY", form: .repeated) { c, v throws(ConfigurationError) in
            c.retiredSigningKeys = try SettingValue.paths(v, "--signing-public-key", "PB_SIGNING_PUBLIC_KEY")
        },
        Setting(flag: "--admin-token", env: "PB_ADMIN_TOKEN") { c, v throws(ConfigurationError) in
            guard let token = try SettingValue.tokens(v, "--admin-token", "PB_ADMIN_TOKEN").first, !v.contains(",") else {
                throw ConfigurationError("--admin-token/PB_ADMIN_TOKEN: give one token")
            }
            c.adminToken = token
        },
        Setting(flag: "--storage", env: "PB_STORAGE") { c, v throws(ConfigurationError) in
            c.storage = v == "local" ? nil : v
        },
        Setting(flag: "--s3-endpoint", env: "PB_S3_ENDPOINT") { c, v throws(ConfigurationError) in c.s3Endpoint = v.isEmpty ? nil : v },
        Setting(flag: "--s3-region", env: "PB_S3_REGION") { c, v throws(ConfigurationError) in c.s3Region = v },
        Setting(flag: "--download-redirect", env: "PB_DOWNLOAD_REDIRECT") { c, v throws(ConfigurationError) in
            c.downloadRedirect = try DownloadRedirectSetting(parsing: v)
        },
        Setting(flag: "--download-redirect-ttl", env: "PB_DOWNLOAD_REDIRECT_TTL") { c, v throws(ConfigurationError) in
            c.downloadRedirectTTL = try SettingValue.duration(v, "--download-redirect-ttl", "PB_DOWNLOAD_REDIRECT_TTL")
        },
        Setting(flag: "--warm-top", env: "PB_WARM_TOP") { c, v throws(ConfigurationError) in
            c.warmTop = try SettingValue.integer(v, in: 0...1000, "--warm-top", "PB_WARM_TOP")
        },
        Setting(flag: "--warm-window", env: "PB_WARM_WINDOW") { c, v throws(ConfigurationError) in
            c.warmWindow = try SettingValue.duration(v, "--warm-window", "PB_WARM_WINDOW")
        },
        Setting(flag: "--warm-interval", env: "PB_WARM_INTERVAL") { c, v throws(ConfigurationError) in
            c.warmInterval = try SettingValue.duration(v, "--warm-interval", "PB_WARM_INTERVAL")
        },
    ] + ResourceSettings.settings(\.buildResources) + [ResourceSettings.goCacheSetting(\.goCacheMaxSize)] + RedisSettings.settings(\.redis)
        + BuildHostSettings.settings(
            go: \.goExecutables, toolchainDownload: \.toolchainDownload, goproxy: \.goproxy, simultaneousJobs: \.simultaneousJobs,
            buildTimeout: \.buildTimeout, logLevel: \.logLevel)

    /// Applies `flags` (flag name → value, as parsed) and then `environment`.
    public static func resolve(flags: [String: String], environment: [String: String]) throws(ConfigurationError) -> HubConfiguration {
        let configuration = try Setting.apply(settings, to: HubConfiguration(), flags: flags, environment: environment)
        try configuration.validate()
        return configuration
    }

    public func validate() throws(ConfigurationError) {
        if host.isEmpty { throw ConfigurationError("--webserver-host/PB_WEBSERVER_HOST is empty: give an address such as 0.0.0.0 or 127.0.0.1") }
        if dataDirectory.isEmpty { throw ConfigurationError("--binary-path/PB_BINARY_PATH is empty: give a directory for the cache") }
        guard ["file://", "http://", "https://"].contains(where: packageEndpoint.hasPrefix) else {
            throw ConfigurationError("--package-endpoint/PB_PACKAGE_ENDPOINT \(packageEndpoint) is not an http://, https:// or file:// URL")
        }
        try SettingValue.validateBuildSettings(goproxy: goproxy, buildTimeout: buildTimeout)
        if sseHeartbeat < .milliseconds(100) { throw ConfigurationError("--sse-heartbeat/PB_SSE_HEARTBEAT must be at least 100ms") }
        for (flag, value) in [("--header-timeout/PB_HEADER_TIMEOUT", connectionLimits.headerTimeout), ("--idle-timeout/PB_IDLE_TIMEOUT", connectionLimits.idleTimeout), ("--body-timeout/PB_BODY_TIMEOUT", connectionLimits.bodyTimeout)]
        where value < .milliseconds(100) {
            throw ConfigurationError("\(flag) must be at least 100ms")
        }
        if cacheMaxSize < 1 << 20 { throw ConfigurationError("--cache-max-size/PB_CACHE_MAX_SIZE must be at least 1MB") }
        if agent {
            throw ConfigurationError("--agent/PB_AGENT: Prox's agent is its own command: run `proxagent --hub-url http://<hub>:8080 --push-token ...` on each build host")
        }
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw ConfigurationError("--tls-cert/PB_TLS_CERT and --tls-key/PB_TLS_KEY go together: give both (PEM files) for https, or neither")
        }
        if let adminToken, pullTokens.contains(adminToken) {
            throw ConfigurationError("--admin-token/PB_ADMIN_TOKEN is also a --pull-token: give the admin API a token of its own")
        }
        try redis.validate()
        if let storage {
            do throws(ProxError) {
                _ = try S3Configuration(storage: storage, endpoint: s3Endpoint, region: s3Region, credentials: .init(accessKeyID: "-", secretAccessKey: "-"))
            } catch {
                throw ConfigurationError(error.message)
            }
        } else if s3Endpoint != nil {
            throw ConfigurationError("--s3-endpoint/PB_S3_ENDPOINT is set but --storage/PB_STORAGE is not s3://BUCKET[/PREFIX]: give both, or neither")
        }
        if downloadRedirect != .off, storage == nil {
            throw ConfigurationError("--download-redirect/PB_DOWNLOAD_REDIRECT redirects to the bucket: it needs --storage s3://BUCKET[/PREFIX]")
        }
        if warmTop > 0, warmInterval < .seconds(1) {
            throw ConfigurationError("--warm-interval/PB_WARM_INTERVAL must be at least 1s")
        }
        if warmTop > 0, warmWindow < .seconds(3600) {
            throw ConfigurationError("--warm-window/PB_WARM_WINDOW must be at least 1h (downloads are counted per day)")
        }
        if downloadRedirectTTL < .seconds(1) || downloadRedirectTTL > .seconds(7 * 24 * 3600) {
            throw ConfigurationError("--download-redirect-ttl/PB_DOWNLOAD_REDIRECT_TTL must be from 1s to 7 days (168h), the life S3 allows a presigned URL")
        }
    }
}
