import BuildCore
import CoreMetrics

/// An ``ArtifactStore`` (and its administration) that counts what crosses it:
///
///     prox_cache_lookups_total{result}   hit, miss, error
///     prox_cache_commits_total           artifacts stored
///     prox_cache_committed_bytes_total   their bytes
///
/// Sizes, entries and evictions are states of the store: ``ProxhubApp`` reads them with a
/// collector before each rendering.
public struct MeteredArtifactStore: ArtifactStore, CacheAdministration {
    public let base: any ArtifactStore & CacheAdministration
    let metrics: ProxMetrics

    public init(_ base: any ArtifactStore & CacheAdministration, metrics: ProxMetrics) {
        self.base = base
        self.metrics = metrics
        for result in ["hit", "miss", "error"] { _ = metrics.counter("prox_cache_lookups_total", [("result", result)]) }
        _ = metrics.counter("prox_cache_commits_total")
        _ = metrics.counter("prox_cache_committed_bytes_total")
    }

    public var stagingDirectory: String { base.stagingDirectory }

    public func lookup(_ key: CacheKey) async throws(ProxError) -> ArtifactRecord? {
        do {
            let found = try await base.lookup(key)
            metrics.counter("prox_cache_lookups_total", [("result", found == nil ? "miss" : "hit")]).increment()
            return found
        } catch {
            metrics.counter("prox_cache_lookups_total", [("result", "error")]).increment()
            throw error
        }
    }

    public func commit(key: CacheKey, build: ResolvedBuild, file: String, expectedDigest: String?) async throws(ProxError) -> ArtifactRecord {
        let record = try await base.commit(key: key, build: build, file: file, expectedDigest: expectedDigest)
        metrics.counter("prox_cache_commits_total").increment()
        metrics.counter("prox_cache_committed_bytes_total").increment(by: record.size)
        return record
    }

    public func discardStaged(_ file: String) async { await base.discardStaged(file) }

    public func entries(limit: Int) async throws(ProxError) -> [ArtifactRecord] { try await base.entries(limit: limit) }
    public func setPinned(_ key: CacheKey, _ pinned: Bool) async throws(ProxError) -> Bool { try await base.setPinned(key, pinned) }
    public func remove(_ key: CacheKey) async throws(ProxError) -> Bool { try await base.remove(key) }
    public func prune(toSize size: Int64) async throws(ProxError) -> (entries: Int, bytes: Int64) { try await base.prune(toSize: size) }
    public func usage() async -> (size: Int64, quota: Int64) { await base.usage() }
}
