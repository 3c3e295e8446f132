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

    /// The catalog as `/api/packages` lists it: each package with the upstream catalog's
    /// `downloads`, this server's own, its last build here, and its popularity, most popular
    /// first (then by path).
    ///
    /// Popularity is this server's downloads plus the upstream count as a baseline, scaled so
    /// that the baseline as a whole weighs as much as this server's downloads (at least
    /// 1,000): `popularity = local + upstream × max(Σ local, 1000) / Σ upstream`. On a new
    /// server the order is upstream's; as this server's users download, their choices move it.
    public func listing(downloads: [String: Int], lastBuilds: [String: LastBuild] = [:]) -> [ListedPackage] {
        let packages = self.packages ?? []
        let upstreamTotal = packages.reduce(0) { $0 + max($1.downloads ?? 0, 0) }
        let localTotal = packages.reduce(0) { $0 + (downloads[$1.path] ?? 0) }
        let scale = upstreamTotal > 0 ? Double(max(localTotal, 1000)) / Double(upstreamTotal) : 0
        return packages.map { package in
            let local = downloads[package.path] ?? 0
            let popularity = Double(local) + Double(max(package.downloads ?? 0, 0)) * scale
            return ListedPackage(
                package: package, localDownloads: local, popularity: (popularity * 100).rounded() / 100, lastBuild: lastBuilds[package.path]
            )
        }.sorted { ($0.popularity, $1.package.path) > ($1.popularity, $0.package.path) }
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

/// One package as `/api/packages` lists it: the upstream catalog's fields as they were
/// (`downloads` is upstream's count), plus `local_downloads`, `popularity` and `last_build`.
public struct ListedPackage: Encodable, Sendable {
    public let package: CatalogPackage
    public let localDownloads: Int
    public let popularity: Double
    public let lastBuild: LastBuild?

    enum CodingKeys: String, CodingKey { case localDownloads = "local_downloads", popularity, lastBuild = "last_build" }

    public func encode(to encoder: any Encoder) throws {
        try package.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(localDownloads, forKey: .localDownloads)
        try container.encode(popularity, forKey: .popularity)
        try container.encode(lastBuild, forKey: .lastBuild)
    }
}
