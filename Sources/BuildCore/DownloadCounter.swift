
/// Downloads per package path: what orders `/api/packages`. Best effort: counting never
/// fails a download.
public protocol DownloadCounter: Sendable {
    /// Counts one download of each package path.
    func recordDownload(packages: [String]) async

    /// Downloads per package path, as recorded by ``recordDownload(packages:)``.
    func downloadCounts() async -> [String: Int]
}
