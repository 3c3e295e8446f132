import BuildCore
import CoreMetrics
import CacheStore
import Foundation
import GoProxyClient
import GoToolchain
import HTTPFront
import Hummingbird
import HummingbirdWebSocket
import Logging
import ObjectStorage
import Provenance
import ProxMetrics
import QueueRedis
import ServiceLifecycle
import UnixSignals

/// What `proxhub` runs, in either mode: the HTTP API, the artifact cache and a build
/// service, wired together: standalone, builds run in this process with the go command;
/// in hub mode (`--hub`), they are queued on Redis for `proxagent`s. Tests build one with
/// a test configuration (SystemTests' `LiveHub`).
public struct ProxhubApp: Sendable {
    public let configuration: HubConfiguration
    /// The artifacts: this hub's disk cache alone, or a bucket with the disk cache in front
    /// (`--storage s3://…`).
    public let store: any ArtifactStore & CacheAdministration
    /// This hub's disk cache (its SQLite index also holds download counts, upstream
    /// documents and provenance).
    public let cache: ArtifactCache
    /// With `--storage s3://…`: the bucket-backed store (``store`` wraps it).
    public let bucket: BucketArtifactStore?
    /// What `/metrics` reports.
    public let metrics: ProxMetrics
    /// `--warm-top`: rebuilds popular sets for new Caddy releases.
    public let warmer: CacheWarmer?
    public let builds: any BuildService
    /// Standalone: the go-command runner builds run on (nil in hub mode).
    public let runner: GoToolchainRunner?
    public let catalog: PackageCatalog
    public let api: ProxAPI
    /// Signs each new artifact's provenance; holds the signing key.
    public let signer: ProvenanceSigner
    public let logger: Logger
    /// Services of the mode (hub mode: the log relay and the marker keeper).
    let services: [any Service]
    /// The HTTP server's open connections (capped by ``ConnectionLimits/maxConnections``).
    public let connections = ConnectionCounter()
    /// HTTPS: the certificate in use (reloaded on SIGHUP).
    public let tls: ServerTLS?

    /// Opens the cache (repairing it) and wires the parts for the configured mode:
    /// standalone (builds in this process with the Go toolchain) or hub (builds queued on
    /// Redis for agents). `goCacheRoot` overrides where GOMODCACHE and GOCACHE live
    /// (default: `<data>/go`).
    public static func make(configuration: HubConfiguration, logger: Logger, goCacheRoot: String? = nil) async throws -> ProxhubApp {
        let root = URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path
        let tls = try configuration.tlsCertificate.map { certificate throws(ProxError) in
            try ServerTLS(certificate: certificate, key: configuration.tlsKey ?? "")
        }
        let goRoot = goCacheRoot ?? root + "/go"
        let workDirectory = root + "/tmp/builds"
        try? FileManager.default.removeItem(atPath: workDirectory)  // left by a crash: never reused
        if configuration.buildResources.memory != nil, configuration.buildResources.fence == .cgroup, !configuration.hub, let problem = BuildResources.cgroupProblem() {
            throw ConfigurationError("--build-memory-fence cgroup: cannot make a cgroup for builds here (\(problem)): run with a delegated cgroup (systemd Delegate=yes), or use --build-memory-fence automatic or rlimit")
        }
        let runner = GoToolchainRunner(
            configuration: .init(
                goExecutable: configuration.goExecutable, additionalGoExecutables: Array(configuration.goExecutables.dropFirst()),
                toolchainDownload: configuration.toolchainDownload, goproxy: configuration.goproxy,
                moduleCache: goRoot + "/mod", buildCache: goRoot + "/cache", workDirectory: workDirectory,
                timeout: configuration.buildTimeout, resources: configuration.buildResources,
                goCacheMaxSize: configuration.goCacheMaxSize, goCacheCheckInterval: configuration.goCacheCheckInterval
            ),
            logger: logger
        )
        let cache = try await ArtifactCache(
            configuration: .init(root: root + "/cache", maxSize: configuration.cacheMaxSize, hitWriteInterval: configuration.cacheHitWriteInterval),
            logger: logger
        )
        try await cache.attestations.failInterruptedReproductions()
        let metrics = ProxMetrics()
        let bucket = try await Self.bucket(configuration, cache: cache, metrics: metrics, logger: logger)
        await bucket?.resumeUploads()
        let store = MeteredArtifactStore(bucket ?? cache, metrics: metrics)
        let attestations = MeteredAttestationStore(bucket?.attestations ?? cache.attestations, metrics: metrics)
        let verifier = await Self.verifier(configuration, runner: runner, scratch: root + "/tmp/verify", attestations: attestations, logger: logger)
        let signer = try Self.signer(configuration, root: root, attestations: attestations, verifier: verifier, logger: logger)
        let proxy = try ModuleProxy(goproxy: configuration.goproxy)
        let settings: BuildSettings
        let builds: any BuildService
        let logs: any LogSource
        let toolchains: ToolchainStatus
        let requestLimiter: any RequestRateLimiter
        let compatibility: any CompatibilityStore
        let downloads: any DownloadCounter
        var services: [any Service] = []
        if configuration.hub {
            settings = await hubSettings(configuration, runner: runner, logger: logger)
            let redis = RedisClient(configuration: configuration.redis.configuration, connections: 4, name: "hub", logger: logger)
            try await checkRedis(redis, logger: logger)
            let schema = RedisSchema()
            // With live agents, builds use what they advertise; with none, the hub's own --go
            // (or --go-version) and the proxy's toolchains, and the job waits for an agent.
            let pinned = try configuration.goVersion.map(SettingValue.goVersion)
            let fallback = ToolchainInventory(
                proxy: proxy, local: [GoVersion(settings.goVersion)].compactMap { $0 }, downloadsAllowed: configuration.toolchainDownload,
                pinned: pinned, ttl: configuration.resolveTTL
            )
            let agents = AgentToolchains(
                client: redis, schema: schema, fallback: fallback, pinned: pinned, proxy: GoProxyFormat.displayed(configuration.goproxy)
            )
            toolchains = ToolchainStatus(
                source: agents, downloaded: { [] }, proxyError: { await fallback.lastError }, agents: { await agents.listing() }
            )
            let relay = RedisLogRelay(client: redis, schema: schema, logger: logger)
            let fetcher = PeerArtifactFetcher(store: store, pushToken: configuration.pushToken, maxSize: configuration.cacheMaxSize, logger: logger)
            let service = RedisBuildService(
                client: redis, schema: schema, store: store, relay: relay, logger: logger, limits: configuration.buildLimits,
                fetch: { origin, record, digest throws(ProxError) in try await fetcher.fetch(origin: origin, record: record, digest: digest) }
            )
            builds = service
            logs = relay
            requestLimiter = RedisRateLimiter(client: redis, schema: schema, rate: configuration.clientRequestRate, logger: logger)
            compatibility = RedisCompatibilityStore(client: redis, schema: schema, logger: logger)  // agents record, every hub reads
            // Every hub counts into Redis: the same order on every hub, warming from all downloads.
            downloads = RedisDownloadCounter(
                client: redis, schema: schema, retention: max(configuration.warmWindow, .seconds(31 * 86_400)), logger: logger)
            services = [relay, service]
            if configuration.pushToken?.isEmpty ?? true {
                logger.warning("hub mode without --push-token: agents cannot deliver artifacts, so no build can finish")
            }
        } else {
            settings = try await runner.settings()
            let inventory = try await standaloneToolchains(configuration, runner: runner, proxy: proxy)
            toolchains = ToolchainStatus(source: inventory, downloaded: { runner.downloadedToolchains() }, proxyError: { await inventory.lastError })
            let memoryLogs = MemoryLogBus()
            let queue = MeteredJobQueue(LocalJobQueue(runner: runner, store: store, slots: configuration.simultaneousJobs), metrics: metrics)
            metrics.gauge("prox_build_slots").set(configuration.simultaneousJobs)
            compatibility = cache.compatibility
            builds = BuildCoordinator(
                store: store, queue: queue, logs: memoryLogs, limits: configuration.buildLimits, attestor: signer, compatibility: compatibility
            )
            logs = memoryLogs
            requestLimiter = MemoryRateLimiter(rate: configuration.clientRequestRate)
            downloads = cache.downloads
        }
        let resolver = VersionResolver(proxy: proxy, ttl: configuration.resolveTTL, toolchains: toolchains.source)
        var warmer: CacheWarmer?
        if configuration.warmTop > 0 {
            let made = CacheWarmer(
                builds: builds, resolver: resolver, settings: settings, downloads: downloads, documents: cache.documents,
                top: configuration.warmTop, window: configuration.warmWindow, logger: logger)
            services.append(CacheWarmingService(warmer: made, interval: configuration.warmInterval))
            warmer = made
        }
        let catalogFile = UpstreamFile.packageCatalog(at: configuration.packageEndpoint)
        let catalog = PackageCatalog(
            endpoint: configuration.packageEndpoint, documents: cache.documents, refreshInterval: configuration.catalogRefresh, logger: logger,
            fetch: catalogFile.fetchRequired)
        let api = ProxAPI(
            builds: builds, resolver: resolver, settings: settings, catalog: catalog, store: store, downloads: downloads, logs: logs, toolchains: toolchains,
            options: .init(
                policy: .init(allowReplacements: configuration.allowReplacements), allowUnlisted: configuration.allowUnlisted,
                verifyOnRead: configuration.verifyOnRead, heartbeat: configuration.sseHeartbeat,
                pushToken: configuration.pushToken, maxArtifactSize: configuration.cacheMaxSize,
                access: AccessPolicy(pullTokens: configuration.pullTokens, adminToken: configuration.adminToken),
                clients: ClientIdentifier(trustedProxies: configuration.trustedProxies), servesTLS: tls != nil,
                downloadRedirect: bucket.flatMap { Self.downloadRedirect(configuration, bucket: $0) },
                metrics: { await metrics.render() }
            ),
            requestLimiter: configuration.clientRequestRate.isLimited ? MeteredRequestLimiter(requestLimiter, metrics: metrics) : nil, cacheAdmin: store,
            attestor: signer, compatibility: compatibility
        )
        Self.collectStates(into: metrics, cache: cache, bucket: bucket, builds: builds, toolchains: toolchains)
        let recovery = await cache.recovery
        logger.info(
            "proxhub ready",
            metadata: [
                "mode": "\(configuration.hub ? "hub" : "standalone")", "scheme": "\(tls == nil ? "http" : "https")", "go": "\(configuration.goVersion.map { "\($0) (pinned)" } ?? settings.goVersion)",
                "toolchainDownload": "\(configuration.toolchainDownload)", "data": "\(root)",
                "goproxy": "\(configuration.goproxy)", "cacheRepairs": "\(recovery)", "storage": "\(bucket?.bucket.location ?? "local disk")",
            ]
        )
        return ProxhubApp(
            configuration: configuration, store: store, cache: cache, bucket: bucket, metrics: metrics, warmer: warmer, builds: builds, runner: configuration.hub ? nil : runner, catalog: catalog, api: api,
            signer: signer, logger: logger, services: services, tls: tls
        )
    }

    /// The signer, with the key of `--signing-key` (made on first start) and the published
    /// public keys of earlier ones.
    static func signer(
        _ configuration: HubConfiguration, root: String, attestations: any AttestationStore, verifier: RebuildVerifier?, logger: Logger
    ) throws -> ProvenanceSigner {
        let path = configuration.signingKey ?? root + "/signing-key.pem"
        let key: SigningKey
        let retired: [PublicSigningKey]
        do throws(ProxError) {
            key = try SigningKeyFile.loadOrCreate(at: path, logger: logger)
        } catch {
            throw ConfigurationError("--signing-key: \(error.message)")
        }
        do throws(ProxError) {
            retired = try SigningKeyFile.publicKeys(at: configuration.retiredSigningKeys)
        } catch {
            throw ConfigurationError("--signing-public-key: \(error.message)")
        }
        return ProvenanceSigner(
            key: key, retired: retired, store: attestations, hubName: ProcessInfo.processInfo.hostName, verifier: verifier, logger: logger)
    }

    /// `--verify-rebuilds`: standalone, rebuilds with the hub's own go commands, each in a
    /// new directory under `scratch` with empty Go caches (module and build cache).
    /// In hub mode the hub rebuilds what agents pushed, itself: another host than the
    /// agent, with cold caches. It needs a go command of its own (`--go`).
    static func verifier(
        _ configuration: HubConfiguration, runner: GoToolchainRunner, scratch: String, attestations: any AttestationStore, logger: Logger
    ) async -> RebuildVerifier? {
        guard configuration.verifyRebuilds > 0 else { return nil }
        if configuration.hub, (try? await runner.settings()) == nil {
            logger.notice("--verify-rebuilds needs a go command on the hub (--go) to rebuild what agents push: no rebuilds")
            return nil
        }
        let base = runner.configuration
        return RebuildVerifier(fraction: configuration.verifyRebuilds, store: attestations, scratch: scratch, logger: logger) { root in
            var fresh = base
            fresh.moduleCache = root + "/mod"
            fresh.buildCache = root + "/cache"
            fresh.workDirectory = root + "/work"
            fresh.goCacheMaxSize = nil
            return GoToolchainRunner(configuration: fresh, logger: logger)
        }
    }

    /// `--storage s3://…`: the bucket, with `cache` in front of it; credentials from the
    /// first source the environment sets (``AWSCredentialProvider/fromEnvironment(_:client:)``:
    /// keys, a web identity, a credentials file, a container endpoint, else the EC2
    /// instance's role, which must answer now; none stops the start).
    static func bucket(_ configuration: HubConfiguration, cache: ArtifactCache, metrics: ProxMetrics, logger: Logger) async throws -> BucketArtifactStore? {
        guard let storage = configuration.storage else { return nil }
        let source: AWSCredentialProvider?
        do throws(ProxError) {
            if let fixed = configuration.s3Credentials {
                source = .fixed(fixed)
            } else {
                source = try AWSCredentialProvider.fromEnvironment()
            }
        } catch {
            throw ConfigurationError("--storage \(storage): \(error.message)")
        }
        let sources = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), "
            + "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, AWS_SHARED_CREDENTIALS_FILE (with AWS_PROFILE), "
            + "or AWS_CONTAINER_CREDENTIALS_FULL_URI, or run on an EC2 instance with an IAM role"
        guard let credentials = source else {
            throw ConfigurationError("--storage \(storage) needs credentials: \(sources) (AWS_EC2_METADATA_DISABLED is true)")
        }
        if credentials.isLastResort {
            do throws(ProxError) {
                _ = try await credentials.credentials()
            } catch {
                throw ConfigurationError("--storage \(storage) needs credentials: \(sources). Nothing else is set, and \(error.message)")
            }
        }
        logger.info("S3 credentials", metadata: ["source": "\(credentials)", "storage": "\(storage)"])
        let s3: S3Configuration
        do throws(ProxError) {
            s3 = try S3Configuration(storage: storage, endpoint: configuration.s3Endpoint, region: configuration.s3Region, credentials: credentials)
        } catch {
            throw ConfigurationError(error.message)
        }
        return BucketArtifactStore(local: cache, bucket: MeteredObjectStore(S3ObjectStore(configuration: s3, logger: logger), metrics: metrics), logger: logger)
    }

    /// The states `/metrics` reports, read before each rendering: the disk cache's bytes,
    /// quota, entries and evictions; the bucket's pending uploads, corrupted objects and
    /// fetches; downloaded toolchains; in hub mode the queue (Redis) and the agents.
    static func collectStates(into metrics: ProxMetrics, cache: ArtifactCache, bucket: BucketArtifactStore?, builds: any BuildService, toolchains: ToolchainStatus) {
        metrics.addCollector {
            let (size, quota) = await cache.usage()
            metrics.gauge("prox_cache_bytes").set(size)
            metrics.gauge("prox_cache_quota_bytes").set(quota)
            if let entries = try? await cache.entryCount() { metrics.gauge("prox_cache_entries").set(entries) }
            metrics.advance("prox_cache_evictions_total", to: await cache.evictionCount)
            metrics.gauge("prox_toolchains_downloaded").set(await toolchains.downloaded().count)
            if let bucket {
                metrics.gauge("prox_s3_pending_uploads").set(await bucket.pendingUploads.count)
                metrics.advance("prox_s3_corrupt_objects_total", to: await bucket.corruptObjects)
                metrics.advance("prox_s3_fetches_total", to: await bucket.fetchedFromBucket)
            }
            if let redis = builds as? RedisBuildService, let queued = try? await redis.queuedBuilds() {
                metrics.gauge("prox_build_queue_depth").set(queued)
            }
            if let listing = await toolchains.agents?() {
                let live = listing.filter(\.live).map(\.agent)
                metrics.gauge("prox_agents", [("state", "live")]).set(live.count)
                metrics.gauge("prox_agents", [("state", "stale")]).set(listing.count - live.count)
                metrics.gauge("prox_agent_slots").set(live.reduce(0) { $0 + $1.slots })
                metrics.gauge("prox_agent_slots_busy").set(live.reduce(0) { $0 + $1.running })
            }
        }
    }

    /// `--download-redirect`: hits go to a presigned URL of the object, or to a CDN's copy;
    /// an artifact whose upload is still being retried is sent by this hub.
    static func downloadRedirect(_ configuration: HubConfiguration, bucket: BucketArtifactStore) -> (@Sendable (ArtifactRecord, String) async -> String?)? {
        let ttl = configuration.downloadRedirectTTL
        switch configuration.downloadRedirect {
        case .off:
            return nil
        case .presigned:
            return { record, fileName in
                guard await !bucket.pendingUploads.contains(record.key) else { return nil }
                return await bucket.bucket.downloadURL(BucketArtifactStore.blobName(record.digest), expires: ttl, fileName: fileName)
            }
        case .baseURL(let base):
            return { record, _ in
                guard await !bucket.pendingUploads.contains(record.key) else { return nil }
                return base + "/" + BucketArtifactStore.blobName(record.digest)
            }
        }
    }

    /// Standalone: the local toolchains (each `--go`, asked for its version: a command that
    /// is not a go command stops the start) and the downloadable ones through `proxy`.
    static func standaloneToolchains(_ configuration: HubConfiguration, runner: GoToolchainRunner, proxy: any ModuleProxyClient) async throws -> ToolchainInventory {
        let locals = try await runner.localToolchains()
        var pinned: GoVersion?
        if let goVersion = configuration.goVersion {
            pinned = try SettingValue.goVersion(goVersion)
            if let pinned, !configuration.toolchainDownload, !locals.contains(where: { $0.version == pinned }) {
                throw ConfigurationError(
                    "--go-version \(goVersion) is not one of the local toolchains (\(locals.map(\.version.toolchainName).joined(separator: ", "))) and --toolchain-download is false: add its go command with --go, or allow downloads"
                )
            }
        }
        return ToolchainInventory(
            proxy: proxy, local: locals.map(\.version), downloadsAllowed: configuration.toolchainDownload, pinned: pinned, ttl: configuration.resolveTTL
        )
    }

    /// The hub's own toolchain, planned with while no agent is live: `--go-version`, else the
    /// version of `--go` if it runs here.
    /// Without either, the hub plans from its live agents only (a build that arrives while
    /// none is live waits in the queue of the newest toolchain the proxy lists).
    static func hubSettings(_ configuration: HubConfiguration, runner: GoToolchainRunner, logger: Logger) async -> BuildSettings {
        if let goVersion = configuration.goVersion { return BuildSettings(goVersion: goVersion) }
        do {
            return try await runner.settings()
        } catch {
            logger.notice(
                "no go command on the hub: builds are planned from the live agents' toolchains only (give --go for a fallback while no agent is live)",
                metadata: ["error": "\(error.message)"]
            )
            return BuildSettings(goVersion: "")
        }
    }

    /// Fails start-up on wrong credentials; an unreachable Redis only warns (the hub serves
    /// cached builds and reconnects by itself).
    static func checkRedis(_ redis: RedisClient, logger: Logger) async throws {
        do throws(RedisError) {
            try await redis.connect()
        } catch {
            if error.kind == .authentication { throw ConfigurationError(error.message) }
            logger.warning("Redis is not reachable yet: cached builds are served, new builds get 503 until it is", metadata: ["error": "\(error.message)"])
        }
    }

    /// The server's limits; artifact pushes may be as large as the cache quota.
    var connectionLimits: ConnectionLimits {
        var limits = configuration.connectionLimits
        limits.maxUploadBody = configuration.cacheMaxSize
        return limits
    }

    /// The HTTP application. `onServerRunning` receives the bound port.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let serverName = "Prox"
        let router = Router(context: ProxRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: LogRequestsMiddleware(.info))
        api.addRoutes(to: router)
        api.addWebSocketRoutes(to: router)
        return Application(
            router: router,
            server: .prox(
                webSocketRouter: router, limits: connectionLimits, connections: connections, tls: tls,
                fastPath: api.downloadFastPath(serverName: serverName, metrics: metrics, logger: logger)
            ),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: serverName),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The hub's services: the cache (it writes pending hits when everything else has
    /// stopped, being first in the group), the HTTP server, the catalog (refreshed
    /// periodically), hub mode's relay and build service (its markers), the TLS reloader
    /// and build shutdown (shut down first, being last). On
    /// SIGTERM/SIGINT (or ``ServiceGroup/triggerGracefulShutdown()``) builds are cancelled,
    /// their temporary directories removed, and the server stops.
    public func serviceGroup(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> ServiceGroup {
        ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: cache),
                    .init(service: application(onServerRunning: onServerRunning)),
                    .init(service: catalog),
                ] + services.map { .init(service: $0) } + [.init(service: TLSReloader(tls: tls, logger: logger))] + [
                    .init(service: BuildShutdown(builds: builds)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
    }

    /// Runs until SIGTERM/SIGINT.
    public func run() async throws {
        try await serviceGroup().run()
    }
}
