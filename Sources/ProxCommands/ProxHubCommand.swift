import ArgumentParser
import Foundation
import Logging

/// `proxhub`: the build service. Flags each have a `PB_*` environment variable, which wins.
public struct ProxHubCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "proxhub",
        abstract: "Prox: a self-hosted, Caddy-compatible build service for custom Caddy binaries.",
        discussion: "Every option can also be set with its PB_* environment variable, which takes precedence over the flag."
    )

    @Option(name: .customLong("webserver-host"), help: "Address to listen on (PB_WEBSERVER_HOST). Default: 0.0.0.0")
    var host: String?
    @Option(name: .customLong("webserver-port"), help: "Port to listen on (PB_WEBSERVER_PORT). Default: 8080")
    var port: String?
    @Option(name: .customLong("binary-path"), help: "Data directory: artifact cache, index, Go caches (PB_BINARY_PATH). Default: ./data")
    var binaryPath: String?
    @Option(name: .customLong("package-endpoint"), help: "Package catalog URL, http(s):// or file:// (PB_PACKAGE_ENDPOINT). Default: https://caddyserver.com/api/packages")
    var packageEndpoint: String?
    @Option(name: .customLong("goproxy"), help: "GOPROXY list for resolving and building (PB_GOPROXY). Default: $GOPROXY, else https://proxy.golang.org,direct")
    var goproxy: String?
    @Option(name: .customLong("go"), help: "A local go command; repeat for several, the first is the default (PB_GO, comma-separated). Default: go on PATH")
    var go: [String] = []
    @Option(name: .customLong("toolchain-download"), help: "Download the Go toolchain a build needs through GOPROXY: true or false (PB_TOOLCHAIN_DOWNLOAD). Default: true")
    var toolchainDownload: String?
    @Option(name: .customLong("simultaneous-jobs"), help: "Builds run at once (PB_SIMULTANEOUS_JOBS). Default: 2")
    var simultaneousJobs: String?
    @Option(name: .customLong("build-timeout"), help: "Time limit per build: 600, 90s, 10m (PB_BUILD_TIMEOUT). Default: 600s")
    var buildTimeout: String?
    @Option(name: .customLong("cache-max-size"), help: "Artifact cache quota: 500MB, 10GB, 1GiB (PB_CACHE_MAX_SIZE). Default: 10GB")
    var cacheMaxSize: String?
    @Option(name: .customLong("catalog-refresh"), help: "Package catalog refresh interval (PB_CATALOG_REFRESH). Default: 1h")
    var catalogRefresh: String?
    @Option(name: .customLong("resolve-ttl"), help: "How long resolved versions are reused (PB_RESOLVE_TTL). Default: 5m")
    var resolveTTL: String?
    @Option(name: .customLong("sse-heartbeat"), help: "Interval of heartbeat comments on idle log streams (PB_SSE_HEARTBEAT). Default: 15s")
    var sseHeartbeat: String?
    @OptionGroup var resources: BuildResourceOptions
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (PB_LOG_LEVEL). Default: info")
    var logLevel: String?
    @Option(name: .customLong("redis-host"), help: "Hub mode: Redis host (PB_REDIS_HOST). Default: localhost")
    var redisHost: String?
    @Option(name: .customLong("redis-port"), help: "Hub mode: Redis port (PB_REDIS_PORT). Default: 6379")
    var redisPort: String?
    @Option(name: .customLong("redis-username"), help: "Hub mode: Redis ACL user (PB_REDIS_USERNAME).")
    var redisUsername: String?
    @Option(name: .customLong("redis-password"), help: "Hub mode: Redis password (PB_REDIS_PASSWORD).")
    var redisPassword: String?
    @Option(name: .customLong("push-token"), help: "Token agents must send to push artifacts (PB_PUSH_TOKEN). Without it, pushes are refused.")
    var pushToken: String?
    @Option(name: .customLong("go-version"), help: "One Go toolchain for every build, e.g. go1.23.5 (PB_GO_VERSION). Default: chosen per build from the go.mod files")
    var goVersion: String?
    @Option(name: .customLong("max-connections"), help: "Open connections at once; more get 503 (PB_MAX_CONNECTIONS). Default: 4096")
    var maxConnections: String?
    @Option(name: .customLong("header-timeout"), help: "Time for a request's line and headers to arrive (PB_HEADER_TIMEOUT). Default: 10s")
    var headerTimeout: String?
    @Option(name: .customLong("idle-timeout"), help: "Idle keep-alive connections are closed after this (PB_IDLE_TIMEOUT). Default: 60s")
    var idleTimeout: String?
    @Option(name: .customLong("body-timeout"), help: "A request body silent this long gets 408 (PB_BODY_TIMEOUT). Default: 30s")
    var bodyTimeout: String?
    @Option(name: .customLong("max-queued-builds"), help: "Builds waiting for a slot or agent; past it new builds get 503 (PB_MAX_QUEUED_BUILDS; 0: no bound). Default: 50")
    var maxQueuedBuilds: String?
    @Option(name: .customLong("client-build-rate"), help: "New builds per client: 30/h, 5/m (PB_CLIENT_BUILD_RATE; 0: no limit). Default: 30/h")
    var clientBuildRate: String?
    @Option(name: .customLong("client-concurrent-builds"), help: "Builds one client may have queued or running (PB_CLIENT_CONCURRENT_BUILDS; 0: no limit). Default: 3")
    var clientConcurrentBuilds: String?
    @Option(name: .customLong("client-request-rate"), help: "Requests per client, hits included: 600/m (PB_CLIENT_REQUEST_RATE; 0: no limit). Default: 600/m")
    var clientRequestRate: String?
    @Option(name: .customLong("trusted-proxies"), help: "Proxies whose X-Forwarded-For names the client: 10.0.0.0/8,127.0.0.1 (PB_TRUSTED_PROXIES).")
    var trustedProxies: String?
    @Option(name: .customLong("pull-token"), help: "Makes the server private: API requests need this token; repeat for several (PB_PULL_TOKEN, comma-separated).")
    var pullToken: [String] = []
    @Option(name: .customLong("tls-cert"), help: "Serve https: the certificate chain, PEM; reloaded on SIGHUP (PB_TLS_CERT). Needs --tls-key.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The private key of --tls-cert, PEM (PB_TLS_KEY).")
    var tlsKey: String?
    @Option(name: .customLong("admin-token"), help: "Token of the admin API under /api/admin/ (PB_ADMIN_TOKEN). Without it there is no admin API.")
    var adminToken: String?
    @Flag(name: .customLong("hub"), help: "Hub mode: serve and queue builds on Redis for proxagents; build nothing here (PB_HUB).")
    var hub = false
    @Flag(name: .customLong("agent"), help: "prox-builder's agent mode: use the proxagent command instead (PB_AGENT).")
    var agent = false
    @Flag(name: .customLong("allow-unlisted"), help: "Build packages that are not in the catalog (PB_ALLOW_UNLISTED).")
    var allowUnlisted = false
    @Flag(name: .customLong("allow-replacements"), help: "Accept path=module@version replacements (PB_ALLOW_REPLACEMENTS).")
    var allowReplacements = false
    @Flag(name: .customLong("verify-on-read"), help: "Check each artifact's SHA-256 before sending it (PB_VERIFY_ON_READ).")
    var verifyOnRead = false

    public init() {}

    var flags: [String: String] {
        var flags: [String: String] = [:]
        let options: [(String, String?)] = [
            ("--webserver-host", host), ("--webserver-port", port), ("--binary-path", binaryPath),
            ("--package-endpoint", packageEndpoint), ("--goproxy", goproxy), ("--go", go.isEmpty ? nil : go.joined(separator: ",")),
            ("--toolchain-download", toolchainDownload),
            ("--simultaneous-jobs", simultaneousJobs), ("--build-timeout", buildTimeout), ("--cache-max-size", cacheMaxSize),
            ("--catalog-refresh", catalogRefresh), ("--resolve-ttl", resolveTTL), ("--sse-heartbeat", sseHeartbeat), ("--log-level", logLevel),
            ("--redis-host", redisHost), ("--redis-port", redisPort), ("--redis-username", redisUsername), ("--redis-password", redisPassword),
            ("--push-token", pushToken), ("--go-version", goVersion),
            ("--max-queued-builds", maxQueuedBuilds), ("--client-build-rate", clientBuildRate),
            ("--client-concurrent-builds", clientConcurrentBuilds), ("--client-request-rate", clientRequestRate),
            ("--trusted-proxies", trustedProxies), ("--pull-token", pullToken.isEmpty ? nil : pullToken.joined(separator: ",")),
            ("--admin-token", adminToken), ("--tls-cert", tlsCert), ("--tls-key", tlsKey),
            ("--max-connections", maxConnections), ("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout), ("--body-timeout", bodyTimeout),
        ] + resources.flags
        for case let (name, value?) in options { flags[name] = value }
        for (name, on) in [("--allow-unlisted", allowUnlisted), ("--allow-replacements", allowReplacements), ("--verify-on-read", verifyOnRead), ("--hub", hub), ("--agent", agent)] where on {
            flags[name] = "true"
        }
        return flags
    }

    public func run() async throws {
        let configuration = try CommandStart.configuration { () throws(ConfigurationError) in
            try HubConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        }
        let logger = CommandStart.logger("proxhub", level: configuration.logLevel)
        CommandStart.raiseOpenFileLimit(logger: logger)
        let hub = try await CommandStart.make(logger) { try await Hub.make(configuration: configuration, logger: logger) }
        try await hub.run()
    }
}
