import BuildCore
import Foundation
import HTTPFront
import Hummingbird
import HummingbirdTesting
import Logging
import Provenance
import ProxMetrics
import ProxTesting
import Testing

/// The HTTP API wired as a standalone proxhub wires it, in this process, with BuildCore's
/// in-memory twins instead of the go command, the module proxy and SQLite: routes are
/// exercised through Hummingbird's router test client, no socket, no subprocess.
struct InProcessAPI {
    static let caddy = BuildRequest.caddyModulePath
    static let hello = "github.com/proxfixture/hello"

    let root: String
    let runner: ScriptedRunner
    let store: MemoryArtifactStore
    let logs: MemoryLogBus
    let builds: BuildCoordinator
    let signer: ProvenanceSigner
    let api: ProxAPI
    let metrics: ProxMetrics
    let compatibility = MemoryCompatibilityStore()
    /// What proxhub installs in each connection (nil when the API keeps no ready answers).
    let fastPath: DownloadFastPath?

    /// The fixture's shape in miniature: three Caddy releases and a pre-release, the
    /// `hello` plugin (two versions) and `unlisted` (not in the catalog).
    static let proxy = MemoryModuleProxy([
        caddy: Dictionary(uniqueKeysWithValues: ["v2.7.6", "v2.8.0", "v2.8.4", "v2.9.0-beta.1"].map { ($0, MemoryModuleProxy.goMod(caddy, go: "1.21")) }),
        hello: ["v0.1.0": MemoryModuleProxy.goMod(hello, go: "1.21"), "v0.2.0": MemoryModuleProxy.goMod(hello, go: "1.21")],
        "github.com/someone/unlisted": ["v1.0.0": MemoryModuleProxy.goMod("github.com/someone/unlisted")],
    ])

    static let catalog = #"{"status_code": 200, "result": [{"id": "hello", "path": "github.com/proxfixture/hello", "modules": [{"name": "http.handlers.hello"}]}]}"#

    init(
        script: ScriptedRunner.Script = .init(), allowUnlisted: Bool = false, allowReplacements: Bool = false,
        limits: BuildLimits = .unlimited, proxy: MemoryModuleProxy = Self.proxy, access: AccessPolicy = .init(),
        pushToken: String? = nil, requestRate: Rate? = nil, verifyWith verifyRunner: (any BuildRunner)? = nil
    ) async throws {
        root = NSTemporaryDirectory() + "prox-api-\(UUID().uuidString.prefix(8))"
        let metrics = ProxMetrics()
        self.metrics = metrics
        _ = metrics.counter("prox_test_total")
        runner = ScriptedRunner(script: script)
        store = try MemoryArtifactStore(root: root)
        logs = MemoryLogBus()
        var verifier: RebuildVerifier?
        if let verifyRunner {
            verifier = RebuildVerifier(fraction: 1, store: store, scratch: root + "/verify", logger: Logger(label: "test.verify")) { _ in verifyRunner }
        }
        signer = ProvenanceSigner(key: .generate(), store: store, hubName: "test-hub", verifier: verifier, logger: Logger(label: "test.provenance"))
        builds = BuildCoordinator(
            store: store, queue: LocalJobQueue(runner: runner, store: store, slots: 2), logs: logs, limits: limits, attestor: signer,
            compatibility: compatibility)
        let settings = try await runner.settings()
        let inventory = ToolchainInventory(proxy: proxy, local: [GoVersion(minor: 23, patch: 5)], downloadsAllowed: false)
        let catalogData = Array(Self.catalog.utf8)
        let catalog = PackageCatalog(endpoint: "memory://catalog", documents: store, fetch: { () async throws(ProxError) -> [UInt8] in catalogData })
        await catalog.start()
        api = ProxAPI(
            builds: builds, resolver: VersionResolver(proxy: proxy), settings: settings, catalog: catalog, store: store, downloads: store, logs: logs,
            toolchains: ToolchainStatus(source: inventory, downloaded: { [] }),
            options: .init(
                policy: .init(allowReplacements: allowReplacements), allowUnlisted: allowUnlisted, heartbeat: .seconds(60), pushToken: pushToken,
                access: access, metrics: { [metrics] in await metrics.render() }),
            requestLimiter: requestRate.map { MemoryRateLimiter(rate: $0) }, cacheAdmin: store, attestor: signer, compatibility: compatibility
        )
        fastPath = api.downloadFastPath(serverName: "Prox", metrics: metrics, logger: Logger(label: "test.fast-path"))
    }

    /// Runs `body` with a client of the API's router.
    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let router = Router(context: ProxRequestContext.self)
        api.addRoutes(to: router)
        return try await Application(router: router).test(.router, body)
    }

    /// Runs `body` against the same routes behind proxhub's own server pipeline (the
    /// connection guard, sendfile, the download fast path, WebSocket upgrades) on a free port of 127.0.0.1: what
    /// the router test cannot show (the parser's refusals, connection limits, /ws).
    func testServer<Value>(
        limits: ConnectionLimits = .init(), _ body: @Sendable (_ port: Int, _ client: any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let router = Router(context: ProxRequestContext.self)
        api.addRoutes(to: router)
        api.addWebSocketRoutes(to: router)
        let application = Application(
            router: router,
            server: .prox(webSocketRouter: router, limits: limits, connections: ConnectionCounter(), fastPath: fastPath),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "Prox")
        )
        return try await application.test(.live) { client in
            try await body(try #require(client.port), client)
        }
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The official error shape: `status_code` and `error.message` / `error.id`.
    func error() throws -> (status: Int?, message: String, id: String) {
        let json = try json()
        let error = try #require(json["error"] as? [String: Any], "no error object: \(text)")
        return (json["status_code"] as? Int, error["message"] as? String ?? "", error["id"] as? String ?? "")
    }
}
