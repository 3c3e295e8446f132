import BuildCore
import CacheStore
import Foundation
import HTTPFront
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// A standalone hub: the API, the artifact cache and in-process builds, wired together.
/// `proxhub` runs one; tests build one with a test configuration.
public struct Hub: Sendable {
    public let configuration: HubConfiguration
    public let store: ArtifactCache
    public let builds: any BuildService
    public let catalog: PackageCatalog
    public let api: ProxAPI
    public let logger: Logger

    /// Opens the cache (repairing it), asks the Go toolchain for its version and wires the parts.
    /// `goCacheRoot` overrides where GOMODCACHE and GOCACHE live (default: `<data>/go`).
    public static func make(configuration: HubConfiguration, logger: Logger, goCacheRoot: String? = nil) async throws -> Hub {
        let root = URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path
        let goRoot = goCacheRoot ?? root + "/go"
        let workDirectory = root + "/tmp/builds"
        try? FileManager.default.removeItem(atPath: workDirectory)  // left by a crash: never reused
        let runner = GoToolchainRunner(
            configuration: .init(
                goExecutable: configuration.goExecutable, goproxy: configuration.goproxy,
                moduleCache: goRoot + "/mod", buildCache: goRoot + "/cache", workDirectory: workDirectory,
                timeout: configuration.buildTimeout
            )
        )
        let settings = try await runner.settings()
        let store = try await ArtifactCache(configuration: .init(root: root + "/cache", maxSize: configuration.cacheMaxSize), logger: logger)
        let logs = MemoryLogBus()
        let queue = LocalJobQueue(runner: runner, store: store, slots: configuration.simultaneousJobs)
        let coordinator = BuildCoordinator(store: store, queue: queue, logs: logs)
        let resolver = VersionResolver(proxy: try ModuleProxy(goproxy: configuration.goproxy), ttl: configuration.resolveTTL)
        let catalog = PackageCatalog(endpoint: configuration.packageEndpoint, documents: store, refreshInterval: configuration.catalogRefresh, logger: logger)
        let api = ProxAPI(
            builds: coordinator, resolver: resolver, settings: settings, catalog: catalog, store: store, logs: logs,
            options: .init(
                policy: .init(allowReplacements: configuration.allowReplacements), allowUnlisted: configuration.allowUnlisted,
                verifyOnRead: configuration.verifyOnRead, heartbeat: configuration.sseHeartbeat
            )
        )
        let recovery = await store.recovery
        logger.info(
            "proxhub ready",
            metadata: [
                "go": "\(settings.goVersion)", "data": "\(root)", "goproxy": "\(configuration.goproxy)",
                "cacheRepairs": "\(recovery)",
            ]
        )
        return Hub(configuration: configuration, store: store, builds: coordinator, catalog: catalog, api: api, logger: logger)
    }

    /// The HTTP application. `onServerRunning` receives the bound port.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: LogRequestsMiddleware(.info))
        api.addRoutes(to: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Prox"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    /// The hub's services: the HTTP server, the catalog refresher and build shutdown. On
    /// SIGTERM/SIGINT (or ``ServiceGroup/triggerGracefulShutdown()``) builds are cancelled,
    /// their temporary directories removed, and the server stops.
    public func serviceGroup(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> ServiceGroup {
        ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: application(onServerRunning: onServerRunning)),
                    .init(service: CatalogRefresher(catalog: catalog)),
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

/// Loads the saved catalog, then refreshes it from upstream now and periodically.
struct CatalogRefresher: Service {
    let catalog: PackageCatalog
    func run() async throws {
        await catalog.start()
        await cancelWhenGracefulShutdown {
            await catalog.refreshPeriodically()
        }
    }
}

/// On graceful shutdown (it is shut down first, being last in the group), refuses new
/// builds and cancels the running ones, so waiting requests end and the server can stop.
struct BuildShutdown: Service {
    let builds: any BuildService
    func run() async throws {
        try? await gracefulShutdown()
        await builds.shutdown()
    }
}
