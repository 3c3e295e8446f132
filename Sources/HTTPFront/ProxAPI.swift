import BuildCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ProxMetrics

/// The Caddy-compatible API and Prox's own build API, over the BuildCore seams.
public struct ProxAPI: Sendable {
    public struct Options: Sendable {
        public var policy: BuildRequest.Policy
        /// Build packages that are not in the catalog.
        public var allowUnlisted: Bool
        /// Check each artifact's SHA-256 before sending it.
        public var verifyOnRead: Bool
        /// Comment lines sent on idle SSE streams.
        public var heartbeat: Duration
        /// The token agents (and other hubs) must send to push or fetch artifacts; nil
        /// refuses every push.
        public var pushToken: String?
        /// The largest artifact a push may deliver (the cache quota).
        public var maxArtifactSize: Int64
        /// Pull and admin tokens.
        public var access: AccessPolicy
        /// How a request's client is told (`--trusted-proxies`).
        public var clients: ClientIdentifier
        /// proxhub serves https itself (`--tls-cert`): cookies are `Secure`.
        public var servesTLS = false
        /// `--download-redirect`: where a cache hit on `/api/download` is sent instead of
        /// its bytes (the artifact and the download's file name in, a URL out); nil for an
        /// artifact that must be sent by this server (not in the bucket yet).
        public var downloadRedirect: (@Sendable (ArtifactRecord, String) async -> String?)?
        /// Renders `/metrics` (Prometheus's text format); nil: no such route.
        public var metrics: (@Sendable () async -> String)?

        public init(
            policy: BuildRequest.Policy = .init(), allowUnlisted: Bool = false, verifyOnRead: Bool = false, heartbeat: Duration = .seconds(15),
            pushToken: String? = nil, maxArtifactSize: Int64 = 10_000_000_000, access: AccessPolicy = .init(), clients: ClientIdentifier = .init(),
            servesTLS: Bool = false, downloadRedirect: (@Sendable (ArtifactRecord, String) async -> String?)? = nil,
            metrics: (@Sendable () async -> String)? = nil
        ) {
            self.downloadRedirect = downloadRedirect
            self.metrics = metrics
            self.access = access
            self.clients = clients
            self.servesTLS = servesTLS
            self.policy = policy
            self.allowUnlisted = allowUnlisted
            self.verifyOnRead = verifyOnRead
            self.heartbeat = heartbeat
            self.pushToken = pushToken
            self.maxArtifactSize = maxArtifactSize
        }
    }

    public let builds: any BuildService
    public let resolver: VersionResolver
    public let settings: BuildSettings
    public let catalog: PackageCatalog
    /// Where agents' pushed artifacts are committed and other hubs fetch from.
    public let store: any ArtifactStore
    public let downloads: any DownloadCounter
    public let logs: any LogSource
    /// Where builds' toolchains come from (what `/api/toolchains` reports).
    public let toolchains: ToolchainStatus
    public let options: Options
    /// Counts each client's requests (`--client-request-rate`); nil: no limit.
    public let requestLimiter: (any RequestRateLimiter)?
    /// The cache as the admin API changes it; nil: no admin API for the cache.
    public let cacheAdmin: (any CacheAdministration)?
    /// Signs new artifacts and serves their provenance; nil: none is served.
    public let attestor: (any Attestor)?
    /// Repeated `/api/download` queries → the build they resolved to (for the resolver's TTL).
    public let downloadMemo: DownloadMemo
    /// What finished builds taught about plugin versions; nil: the plan and the catalog
    /// know nothing of past builds.
    public let compatibility: (any CompatibilityStore)?
    /// Whether cache hits' answers are kept for ``DownloadFastPath``: not when hits redirect
    /// or are checked on read (the fast path does neither), nor with a request limiter that
    /// cannot count on the event loop.
    let keepsReadyAnswers: Bool

    public init(
        builds: any BuildService, resolver: VersionResolver, settings: BuildSettings, catalog: PackageCatalog,
        store: any ArtifactStore, downloads: any DownloadCounter, logs: any LogSource, toolchains: ToolchainStatus, options: Options,
        requestLimiter: (any RequestRateLimiter)? = nil, cacheAdmin: (any CacheAdministration)? = nil, attestor: (any Attestor)? = nil,
        compatibility: (any CompatibilityStore)? = nil
    ) {
        self.compatibility = compatibility
        keepsReadyAnswers = options.downloadRedirect == nil && !options.verifyOnRead && (requestLimiter.map { $0.immediateCounter != nil } ?? true)
        self.attestor = attestor
        self.downloadMemo = DownloadMemo(ttl: resolver.ttl)
        self.requestLimiter = requestLimiter
        self.cacheAdmin = cacheAdmin
        self.toolchains = toolchains
        self.builds = builds
        self.resolver = resolver
        self.settings = settings
        self.catalog = catalog
        self.store = store
        self.downloads = downloads
        self.logs = logs
        self.options = options
    }

    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: ClientPolicyMiddleware(access: options.access, identifier: options.clients, limiter: requestLimiter))
        router.get("/api/download") { request, context in try await self.download(request, context: context) }
        router.head("/api/download") { request, context in try await self.download(request, context: context) }
        router.get("/api/download/plan") { request, _ in try await self.plan(request) }
        router.get("/api/packages") { _, _ in try await self.packages() }
        router.get("/api/packages/**") { request, _ in try await self.packageCompatibility(request) }
        router.get("/api/caddy_versions") { _, _ in try await self.caddyVersions() }
        router.get("/api/platforms") { _, _ in try Self.platforms() }
        router.get("/api/toolchains") { _, _ in try await self.toolchainList() }
        router.get("/api/agents") { _, _ in try await self.agentList() }
        router.post("/api/builds") { request, context in try await self.submit(request, context: context) }
        router.get("/api/builds") { request, _ in try await self.recentBuilds(request) }
        router.get("/api/builds/{id}") { _, context in try await self.build(context.parameters.require("id")) }
        router.get("/api/builds/{id}/logs") { request, context in try await self.logStream(request, id: context.parameters.require("id")) }
        router.get("/api/builds/{id}/artifact") { request, context in try await self.artifact(request, context: context) }
        router.head("/api/builds/{id}/artifact") { request, context in try await self.artifact(request, context: context) }
        router.get("/healthz") { _, _ in try await self.health() }
        if let render = options.metrics {
            router.get("/metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(string: await render())))
            }
        }
        addUIRoutes(to: router)
        addInternalRoutes(to: router)
        addAdminRoutes(to: router)
        addSessionRoutes(to: router)
        addProvenanceRoutes(to: router)
    }

    /// Who sent `request`, for the per-client build limits.
    func client(of request: Request, context: some RequestContext) -> ClientID {
        options.clients.client(peer: context.peer, headers: request.headers, acceptedToken: options.access.accepted(request.headers, for: .api))
    }

    // MARK: - Download

    func download(_ request: Request, context: some RequestContext) async throws -> Response {
        let client = client(of: request, context: context)
        let rawQuery = (request.uri.query ?? "")[...]
        let resolved: ResolvedBuild
        var jobID: BuildID?
        if let remembered = downloadMemo.build(for: rawQuery) {
            resolved = remembered
        } else {
            let buildRequest: BuildRequest
            (buildRequest, jobID) = try downloadRequest(request)
            try await checkListed(buildRequest)
            resolved = try await resolver.resolve(buildRequest, settings: settings)
            if jobID == nil { downloadMemo.remember(resolved, for: rawQuery) }
        }
        let obtained: ObtainedArtifact
        do {
            obtained = try await builds.obtain(resolved, requestedID: jobID, client: client)
        } catch {
            throw APIError(error.error, id: error.buildID?.rawValue ?? RequestIdentifier.make())
        }
        var response: Response
        if obtained.fromCache, let redirect = options.downloadRedirect,
            let location = await redirect(obtained.artifact, resolved.platform.downloadFileName)
        {
            response = ArtifactResponse.redirect(obtained.artifact, to: location, cache: "hit", buildID: obtained.build?.id.rawValue)
        } else {
            response = try await ArtifactResponse.make(
                obtained.artifact, request: request, fileName: resolved.platform.downloadFileName, cache: obtained.fromCache ? "hit" : "miss",
                buildID: obtained.build?.id.rawValue, verifyDigest: options.verifyOnRead, sendfileSlot: { await context.sendfileSlot() }
            )
        }
        response.headers[Self.linkHeader] = provenanceLinks(obtained.artifact.key)
        if keepsReadyAnswers, jobID == nil, obtained.fromCache, response.status == .ok, request.headers[.range] == nil,
            request.headers[.ifRange] == nil, request.headers[.ifNoneMatch] == nil
        {
            let artifact = obtained.artifact
            downloadMemo.attach(
                HotResponse(fields: response.headers, path: artifact.path, size: artifact.size, key: artifact.key), of: resolved, for: rawQuery)
        }
        if request.method == .get, response.status == .ok || response.status == .found {
            await downloads.recordDownload(packages: resolved.plugins.map { $0.path }, platform: resolved.platform)
        }
        return response
    }

    /// The build an `/api/download` query asks for (and its `job_id`), validated as the
    /// official API does: the same 400s for `/api/download` and `/api/download/plan`.
    func downloadRequest(_ request: Request) throws -> (BuildRequest, BuildID?) {
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? { query[Substring(name)].map { String($0) } }
        let packages: [String] = query.getAll("p").map { String($0) } + query.getAll("p[]").map { String($0) }
        let buildRequest = try BuildRequest(
            os: value("os"), arch: value("arch"), arm: value("arm"), packages: packages,
            version: value("version"), caddyVersion: value("caddy_version"), policy: options.policy
        )
        return (buildRequest, try value("job_id").map(BuildID.init(validating:)))
    }

    /// The fast path for repeated `HEAD /api/download` requests, for the HTTP server's
    /// connections (``HTTPServerBuilder/prox(webSocketRouter:limits:connections:tls:fastPath:)``);
    /// nil when this server keeps no ready answers.
    public func downloadFastPath(serverName: String?, metrics: ProxMetrics?, logger: Logger) -> DownloadFastPath? {
        guard keepsReadyAnswers else { return nil }
        let store = self.store
        return DownloadFastPath(
            memo: downloadMemo, access: options.access, clients: options.clients, countRequest: requestLimiter?.immediateCounter,
            touch: { key in Task { _ = try? await store.lookup(key) } }, serverName: serverName, metrics: metrics, logger: logger
        )
    }

    /// Refuses packages that are not in the catalog (the official message), unless allowed.
    func checkListed(_ request: BuildRequest) async throws(ProxError) {
        guard !options.allowUnlisted else { return }
        for plugin in request.plugins {
            // `p=github.com/x/y@v2.1.0` names github.com/x/y/v2: either spelling may be listed.
            var listed = await catalog.isListed(plugin.path)
            if listed == false, plugin.versionedPath != plugin.path {
                listed = await catalog.isListed(plugin.versionedPath)
            }
            switch listed {
            case true?:
                continue
            case false?:
                throw ProxError(
                    .notListed,
                    "\(plugin.path) is not a registered Caddy module package path: see /api/packages for the packages this server builds"
                )
            case nil:
                throw ProxError(
                    .unavailable,
                    "the package catalog is not available yet (--package-endpoint \(catalog.endpoint) has not answered): retry later"
                )
            }
        }
    }

    // MARK: - Catalog and versions

    func packages() async throws -> Response {
        guard await catalog.isLoaded else {
            throw ProxError(.unavailable, "the package catalog is not available yet (--package-endpoint \(catalog.endpoint)): retry later")
        }
        let lastBuilds = (try? await compatibility?.lastBuilds()) ?? [:]
        let listing = await catalog.listing(downloads: await downloads.downloadCounts(), lastBuilds: lastBuilds)
        return try Self.json(Envelope(statusCode: 200, result: listing), cacheControl: "public, max-age=60")
    }

    func caddyVersions() async throws -> Response {
        let versions = try await resolver.caddyVersions()
        return try Self.json(["latest"] + versions.map(\.description), cacheControl: "public, max-age=60")
    }

    /// Every target Prox builds for, one entry per GOARM value, in the order of
    /// ``Platform/supported``: `{"os","arch","arm"?,"target"}`.
    static func platforms() throws -> Response {
        struct Target: Encodable {
            let os: String
            let arch: String
            let arm: Int?
            let target: String
        }
        let targets = Platform.all.map { Target(os: $0.os, arch: $0.arch, arm: $0.arm, target: $0.description) }
        return try json(Envelope(statusCode: 200, result: targets), cacheControl: "public, max-age=3600")
    }

    /// The toolchains builds may use: local, downloadable through the module proxy, and
    /// already downloaded (see docs/api.md).
    func toolchainList() async throws -> Response {
        struct Listing: Encodable {
            let `default`: String
            let pinned: String?
            let downloadsAllowed: Bool
            let host: String
            let local: [String]
            let downloadable: [String]
            let downloaded: [String]
            let proxyError: String?
            /// Hub mode: the live agents the offer comes from.
            let agents: [AgentView]?

            enum CodingKeys: String, CodingKey {
                case `default`, pinned, downloadsAllowed = "downloads_allowed", host, local, downloadable, downloaded
                case proxyError = "proxy_error", agents
            }
        }
        let offer = try await toolchains.source.offer()
        let names = { (versions: [GoVersion]) in versions.sorted(by: >).map(\.toolchainName) }
        let listing = Listing(
            default: offer.local.first?.toolchainName ?? settings.goVersion, pinned: offer.pinned?.toolchainName,
            downloadsAllowed: offer.downloadsAllowed, host: ToolchainModule.hostTarget,
            local: offer.local.map(\.toolchainName), downloadable: names(offer.downloadable), downloaded: names(await toolchains.downloaded()),
            proxyError: await toolchains.proxyError()?.message, agents: try await agentViews()?.filter(\.live)
        )
        return try Self.json(Envelope(statusCode: 200, result: listing))
    }

    struct AgentView: Encodable {
        let name: String
        let live: Bool
        let host: String
        let slots: Int
        let running: Int
        let go: String
        let toolchains: [String]
        let downloadsAllowed: Bool
        let downloadable: [String]
        let seen: Date

        enum CodingKeys: String, CodingKey {
            case name, live, host, slots, running, go, toolchains, downloadsAllowed = "downloads_allowed", downloadable, seen
        }
    }

    func agentViews() async throws -> [AgentView]? {
        guard let agents = toolchains.agents else { return nil }
        return await agents().map { agent, live in
            AgentView(
                name: agent.name, live: live, host: agent.host, slots: agent.slots, running: agent.running, go: agent.go,
                toolchains: agent.toolchains, downloadsAllowed: agent.download, downloadable: agent.downloadable.reversed(),
                seen: Date(timeIntervalSince1970: Double(agent.seen) / 1000)
            )
        }
    }

    /// Hub mode: every agent that has advertised itself, live or not; standalone: none.
    func agentList() async throws -> Response {
        try Self.json(Envelope(statusCode: 200, result: try await agentViews() ?? []))
    }

    // MARK: - Builds

    func submit(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let submission = try JSONDecoder().decode(BuildSubmission.self, from: Data(body.readableBytesView))
        let buildRequest = try BuildRequest(
            os: submission.os, arch: submission.arch, arm: submission.arm, packages: submission.packages,
            version: submission.version, caddyVersion: submission.caddyVersion, policy: options.policy
        )
        try await checkListed(buildRequest)
        let resolved = try await resolver.resolve(buildRequest, settings: settings)
        let jobID = try submission.jobID.map(BuildID.init(validating:))
        let record = try await builds.submit(resolved, requestedID: jobID, client: client(of: request, context: context))
        var response = try Self.json(Envelope(statusCode: 202, result: BuildView(record)), status: .accepted)
        response.headers[.location] = "/api/builds/\(record.id)"
        return response
    }

    func recentBuilds(_ request: Request) async throws -> Response {
        let limit = min(max(request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 50, 1), 500)
        let records = try await builds.recent(limit: limit)
        return try Self.json(Envelope(statusCode: 200, result: records.map(BuildView.init)))
    }

    func build(_ id: String) async throws -> Response {
        try Self.json(Envelope(statusCode: 200, result: BuildView(try await record(id))))
    }

    func artifact(_ request: Request, context: some RequestContext) async throws -> Response {
        let record = try await record(try context.parameters.require("id"))
        let artifact = try await waitForArtifact(record.id)
        var response = try await ArtifactResponse.make(
            artifact, request: request, fileName: record.build.platform.downloadFileName, cache: record.cached ? "hit" : "miss",
            buildID: record.id.rawValue, verifyDigest: options.verifyOnRead, sendfileSlot: { await context.sendfileSlot() }
        )
        response.headers[Self.linkHeader] = provenanceLinks(artifact.key)
        return response
    }

    /// Waits for a build's artifact; its failure is reported with the build's id.
    private func waitForArtifact(_ id: BuildID) async throws(APIError) -> ArtifactRecord {
        do {
            return try await builds.wait(for: id)
        } catch {
            throw APIError(error, id: id.rawValue)
        }
    }

    func record(_ text: String) async throws -> BuildRecord {
        let id = try BuildID(validating: text)
        guard let record = try await builds.record(id) else { throw ProxError(.notFound, "no build with id \(id)") }
        return record
    }

    // MARK: - Health

    func health() async throws -> Response {
        struct Health: Encodable {
            let status: String
            let goVersion: String
            let catalogLoaded: Bool

            enum CodingKeys: String, CodingKey { case status, goVersion = "go_version", catalogLoaded = "catalog_loaded" }
        }
        return try Self.json(Health(status: "ok", goVersion: settings.goVersion, catalogLoaded: await catalog.isLoaded))
    }

    // MARK: - JSON

    struct Envelope<Result: Encodable>: Encodable {
        let statusCode: Int
        let result: Result

        enum CodingKeys: String, CodingKey { case statusCode = "status_code", result }
    }


    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, cacheControl: String = "no-store") throws -> Response {
        let data = try JSONEncoder.prox.encode(value)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        headers[.cacheControl] = cacheControl
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
