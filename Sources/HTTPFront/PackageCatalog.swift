import BuildCore
import Foundation
import Logging
import ServiceLifecycle

/// The package catalog: fetched from `--package-endpoint` (by `fetch`: `GoProxyClient`'s
/// `UpstreamFile.packageCatalog(at:)` reads http(s):// and file:// URLs), refreshed
/// periodically, with the last good copy kept in the ``DocumentStore`` so a failing
/// upstream changes nothing. Download counts come from this server's own records.
///
/// As a `Service` it loads the saved copy, fetches once, then refreshes every
/// ``refreshInterval`` until graceful shutdown.
public actor PackageCatalog: Service {
    public static let documentName = "package-catalog"
    public let endpoint: String
    public let refreshInterval: Duration
    private let documents: any DocumentStore
    private let fetch: @Sendable () async throws(ProxError) -> [UInt8]
    private let logger: Logger
    private var packages: [CatalogPackage]?
    private var byPath: [String: CatalogPackage] = [:]
    public private(set) var fetchedAt: Date?
    public private(set) var lastError: String?

    public init(
        endpoint: String, documents: any DocumentStore, refreshInterval: Duration = .seconds(3600),
        logger: Logger = Logger(label: "prox.catalog"), fetch: @escaping @Sendable () async throws(ProxError) -> [UInt8]
    ) {
        self.endpoint = endpoint
        self.documents = documents
        self.refreshInterval = refreshInterval
        self.fetch = fetch
        self.logger = logger
    }

    /// Loads the last good copy, then tries the upstream once.
    public func start() async {
        if let saved = await documents.loadDocument(named: Self.documentName), let parsed = try? Self.parse(saved.data) {
            install(parsed, at: saved.fetchedAt)
        }
        await refresh()
    }

    /// Fetches the catalog; on success it replaces the current one and is saved.
    @discardableResult
    public func refresh() async -> Bool {
        do {
            let data = try await fetch()
            let parsed = try Self.parse(data)
            install(parsed, at: Date())
            try await documents.saveDocument(named: Self.documentName, data: data)
            lastError = nil
            logger.info("package catalog refreshed", metadata: ["packages": "\(parsed.count)", "endpoint": "\(endpoint)"])
            return true
        } catch {
            lastError = "\(error)"
            logger.warning("package catalog refresh failed; keeping the last good copy", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
            return false
        }
    }

    /// Refreshes every ``refreshInterval`` until cancelled.
    public func refreshPeriodically() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: refreshInterval) } catch { return }
            await refresh()
        }
    }

    public nonisolated func run() async throws {
        await start()
        await cancelWhenGracefulShutdown {
            await self.refreshPeriodically()
        }
    }

    public var isLoaded: Bool { packages != nil }

    /// Nil when no catalog has ever been loaded.
    public func isListed(_ path: String) -> Bool? {
        guard packages != nil else { return nil }
        return byPath[path] != nil
    }

    /// The catalog with local download counts, most downloaded first.
    public func listing(downloads: [String: Int]) -> [CatalogPackage] {
        (packages ?? []).map { package in
            var p = package
            p.downloads = downloads[package.path] ?? 0
            return p
        }.sorted { ($0.downloads ?? 0, $1.path) > ($1.downloads ?? 0, $0.path) }
    }

    private func install(_ parsed: [CatalogPackage], at date: Date) {
        packages = parsed
        byPath = Dictionary(parsed.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        fetchedAt = date
    }

    static func parse(_ data: [UInt8]) throws -> [CatalogPackage] {
        try CatalogPackage.parseCatalog(data)
    }
}
