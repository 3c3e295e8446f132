import BuildCore
import CoreMetrics
import Foundation
import GoProxyClient
import GoToolchain
import Hummingbird
import Logging
import NIOCore
import ProxMetrics
import QueueRedis
import ServiceLifecycle
import UnixSignals

/// A build agent: the Go toolchain, a Redis job consumer and an uploader to the hub.
/// `proxagent` runs one; tests build one with a test configuration.
public struct Agent: Sendable {
    public let configuration: AgentConfiguration
    public let worker: RedisAgent
    public let logger: Logger
    /// What `--metrics-port` serves.
    public let metrics: ProxMetrics

    /// Asks the Go toolchain for its version (jobs are taken from the queue of that
    /// version only) and checks Redis: wrong credentials stop the start; an unreachable
    /// Redis is waited for. `goCacheRoot` overrides where GOMODCACHE and GOCACHE live.
    public static func make(configuration: AgentConfiguration, logger: Logger, goCacheRoot: String? = nil) async throws -> Agent {
        let root = URL(fileURLWithPath: configuration.workDirectory).standardizedFileURL.path
        let goRoot = goCacheRoot ?? root + "/go"
        let buildDirectory = root + "/builds"
        try? FileManager.default.removeItem(atPath: buildDirectory)  // left by a crash: never reused
        try FileManager.default.createDirectory(atPath: buildDirectory, withIntermediateDirectories: true)
        if configuration.buildResources.memory != nil, configuration.buildResources.fence == .cgroup, let problem = BuildResources.cgroupProblem() {
            throw ConfigurationError("--build-memory-fence cgroup: cannot make a cgroup for builds here (\(problem)): run with a delegated cgroup (systemd Delegate=yes), or use --build-memory-fence automatic or rlimit")
        }
        let runner = GoToolchainRunner(
            configuration: .init(
                goExecutable: configuration.goExecutable, additionalGoExecutables: Array(configuration.goExecutables.dropFirst()),
                toolchainDownload: configuration.toolchainDownload, goproxy: configuration.goproxy,
                moduleCache: goRoot + "/mod", buildCache: goRoot + "/cache", workDirectory: buildDirectory + "/work",
                timeout: configuration.buildTimeout, resources: configuration.buildResources,
                goCacheMaxSize: configuration.goCacheMaxSize
            ),
            logger: logger
        )
        let metrics = ProxMetrics()
        let settings = try await runner.settings()
        let locals = try await runner.localToolchains()
        // Downloads need a local go that can switch toolchains (1.21 or newer).
        let downloads = configuration.toolchainDownload && locals.contains { $0.version >= .release(21, 0) }
        let inventory = ToolchainInventory(
            proxy: try ModuleProxy(goproxy: configuration.goproxy), local: locals.map(\.version), downloadsAllowed: downloads
        )
        let worker = RedisAgent(
            options: .init(
                name: configuration.name, slots: configuration.simultaneousJobs, maxAttempts: configuration.maxAttempts,
                lease: configuration.jobLease, shutdownTimeout: configuration.shutdownTimeout
            ),
            goVersion: settings.goVersion, toolchains: locals.map(\.version.toolchainName), downloads: downloads,
            downloadable: { await inventory.downloadable().map(\.toolchainName) }, runner: MeteredBuildRunner(runner, metrics: metrics),
            delivery: HubUploader(
                hubURL: configuration.hubURL, pushToken: configuration.pushToken, timeout: .seconds(600),
                client: try HubUploader.client(trusting: configuration.hubCA)
            ),
            redis: configuration.redis.configuration, workDirectory: buildDirectory, logger: logger
        )
        do throws(RedisError) {
            try await worker.connect()
        } catch {
            if error.kind == .authentication { throw ConfigurationError(error.message) }
            logger.warning("Redis is not reachable yet: waiting for it", metadata: ["error": "\(error.message)"])
        }
        logger.info(
            "proxagent ready",
            metadata: ["go": "\(locals.map(\.version.toolchainName).joined(separator: ","))", "toolchainDownload": "\(downloads)", "hub": "\(configuration.hubURL)", "redis": "\(configuration.redis.configuration.address)"]
        )
        metrics.addCollector { [worker] in
            metrics.advance("prox_agent_jobs_completed_total", to: worker.completedJobs)
            metrics.gauge("prox_toolchains_downloaded").set(runner.downloadedToolchains().count)
        }
        return Agent(configuration: configuration, worker: worker, logger: logger, metrics: metrics)
    }

    /// `--metrics-port`: a small HTTP server with `/metrics` only. `onRunning` receives the
    /// bound port.
    func metricsServer(onRunning: @escaping @Sendable (Int) async -> Void) -> (any Service)? {
        guard let port = configuration.metricsPort else { return nil }
        let router = Router()
        let metrics = self.metrics
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: await metrics.render())))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(configuration.metricsHost, port: port), serverName: "proxagent"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger
        )
    }

    /// The agent's service group: SIGTERM/SIGINT stop taking jobs; running builds get
    /// `--shutdown-timeout` to finish before they are handed back to the queue.
    public func serviceGroup(onMetricsServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> ServiceGroup {
        let services: [any Service] = [worker] + [metricsServer(onRunning: onMetricsServerRunning)].compactMap { $0 }
        return ServiceGroup(
            configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
    }

    public func run() async throws {
        try await serviceGroup().run()
    }
}
