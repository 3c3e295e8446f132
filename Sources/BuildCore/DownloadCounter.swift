import Foundation

/// Downloads per package path (what orders `/api/packages`) and per package set and
/// platform (what cache warming rebuilds). Best effort: counting never fails a download.
public protocol DownloadCounter: Sendable {
    /// Counts one download of `packages` (module paths, without versions; may be empty:
    /// plain Caddy) for `platform`: each path once, and the set as a whole.
    func recordDownload(packages: [String], platform: Platform) async

    /// Downloads per package path, as recorded by ``recordDownload(packages:platform:)``.
    func downloadCounts() async -> [String: Int]

    /// The package sets downloaded most since `since`, each with its platform, most
    /// downloaded first, at most `limit`.
    func popularSets(since: Date, limit: Int) async -> [PopularSet]
}

/// A package set and platform users download often: what cache warming builds again
/// when a new Caddy release appears.
public struct PopularSet: Sendable, Equatable, Hashable {
    /// Module paths, sorted, without versions (empty: plain Caddy).
    public var packages: [String]
    public var platform: Platform
    public var downloads: Int

    public init(packages: [String], platform: Platform, downloads: Int) {
        self.packages = packages.sorted()
        self.platform = platform
        self.downloads = downloads
    }
}
