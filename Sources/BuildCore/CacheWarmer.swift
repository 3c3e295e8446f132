import Foundation
import Logging

/// Cache warming (`--warm-top N`): when a new Caddy release appears in the module proxy,
/// the N package sets (with their platforms) downloaded most in the last `window` are
/// built again for it, so the first users asking for them after the release get a hit.
///
/// ``check(now:)`` runs periodically (proxhub's `CacheWarming` service). It resolves the
/// most downloaded set as a download without a version would (the newest Caddy release,
/// each plugin's newest version) and compares the release with the one it warmed for last
/// (kept in the ``DocumentStore``, so a restart does not warm again). The first check only
/// notes the release. Warm builds are the server's own work (no client): in process they
/// wait until no user's build is waiting for a slot (``FIFOSemaphore``), and they run one
/// at a time, so at most one build slot is ever taken by warming.
public actor CacheWarmer {
    /// What one check did.
    public struct Report: Sendable, Equatable {
        /// The newest Caddy release the check saw (nil: nothing to warm, or it failed).
        public var release: SemanticVersion?
        /// True when `release` was new and the sets were built for it.
        public var newRelease = false
        public var built = 0
        public var alreadyCached = 0
        public var failed = 0

        public init(release: SemanticVersion? = nil) { self.release = release }
    }

    public static let document = "warmed-caddy-release"

    let builds: any BuildService
    let resolver: VersionResolver
    let settings: BuildSettings
    let downloads: any DownloadCounter
    let documents: any DocumentStore
    public let top: Int
    public let window: Duration
    let logger: Logger
    public private(set) var lastReport: Report?

    public init(
        builds: any BuildService, resolver: VersionResolver, settings: BuildSettings, downloads: any DownloadCounter, documents: any DocumentStore,
        top: Int, window: Duration, logger: Logger
    ) {
        self.builds = builds
        self.resolver = resolver
        self.settings = settings
        self.downloads = downloads
        self.documents = documents
        self.top = top
        self.window = window
        self.logger = logger
    }

    public func check(now: Date = Date()) async -> Report {
        let report = await checkOnce(now: now)
        lastReport = report
        return report
    }

    private func checkOnce(now: Date) async -> Report {
        let since = now.addingTimeInterval(-Double(window.components.seconds))
        let sets = await downloads.popularSets(since: since, limit: top)
        guard let first = sets.first else { return Report() }
        let latest: SemanticVersion
        do {
            latest = try await resolver.resolve(try Self.request(for: first), settings: settings).caddyVersion
        } catch {
            logger.warning("cache warming: cannot resolve the newest Caddy release", metadata: ["error": "\(error.message)"])
            return Report()
        }
        let warmed = await documents.loadDocument(named: Self.document).map { String(decoding: $0.data, as: UTF8.self) }
        var report = Report(release: latest)
        guard warmed != latest.description else { return report }
        guard warmed != nil else {
            await remember(latest)
            logger.info("cache warming: watching for Caddy releases after \(latest)")
            return report
        }
        report.newRelease = true
        logger.notice(
            "cache warming: Caddy \(latest) is out; building the most downloaded sets for it",
            metadata: ["sets": "\(sets.count)", "previous": "\(warmed ?? "")"])
        for set in sets {
            if Task.isCancelled { break }
            do throws(ProxError) {
                let resolved = try await resolver.resolve(try Self.request(for: set), settings: settings)
                if try await builds.store.lookup(resolved.cacheKey) != nil {
                    report.alreadyCached += 1
                    continue
                }
                do {
                    _ = try await builds.obtain(resolved, client: nil)
                } catch {
                    throw error.error
                }
                report.built += 1
            } catch {
                report.failed += 1
                logger.warning(
                    "cache warming: a popular set did not build",
                    metadata: ["packages": "\(set.packages.joined(separator: ","))", "platform": "\(set.platform)", "error": "\(error.message)"])
            }
        }
        // Stopped part way (shutdown): the sets left are warmed after the next start.
        guard !Task.isCancelled else { return report }
        await remember(latest)
        logger.notice(
            "cache warming done", metadata: ["release": "\(latest)", "built": "\(report.built)", "cached": "\(report.alreadyCached)", "failed": "\(report.failed)"])
        return report
    }

    private func remember(_ release: SemanticVersion) async {
        do {
            try await documents.saveDocument(named: Self.document, data: Array(release.description.utf8))
        } catch {
            logger.warning("cache warming: cannot remember the release warmed for", metadata: ["error": "\(error.message)"])
        }
    }

    /// A download of `set` without versions: the newest Caddy release and plugin versions.
    static func request(for set: PopularSet) throws(ProxError) -> BuildRequest {
        BuildRequest(platform: set.platform, plugins: try set.packages.map { path throws(ProxError) in try ModuleSpec(path: path) })
    }
}
