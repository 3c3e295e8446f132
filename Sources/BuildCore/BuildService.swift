

/// Where builds are started, joined, watched and waited for: the seam between the HTTP
/// API and whatever runs builds.
///
/// ``BuildCoordinator`` is the in-process implementation (standalone mode); QueueRedis's
/// `RedisBuildService` keeps the same state in Redis so that several hubs and agents share
/// it (hub mode).
///
/// Contract:
/// - ``submit(_:requestedID:client:)`` returns at once with the build's record: a new
///   build, the build already in flight for the same cache key (one build per key at a
///   time, joined by every request that needs it), or a `succeeded` record when the
///   artifact is already cached. `requestedID` lets a client choose the id it will watch;
///   an id already used by a build of another key is `.invalidRequest`.
/// - Only a *new* build is subject to the service's ``BuildLimits``: past the bound on
///   builds waiting it throws `.unavailable`, past `client`'s limits `.rateLimited`, both
///   with ``ProxError/retryAfter``. Joins and cache hits are never refused by them. A nil
///   `client` (the server's own work) is subject to the queue bound only.
/// - ``wait(for:)`` returns the build's artifact from the ``ArtifactStore`` once it is
///   there, or throws the build's error. A caller that goes away does not cancel the build.
/// - ``record(_:)`` returns nil for an unknown id (ids are forgotten after a while).
/// - Every method throws `.unavailable` when the state it needs cannot be reached (Redis
///   down); nothing is lost by that: the caller may retry.
public protocol BuildService: Sendable {
    /// Where finished artifacts are (looked in first by ``obtain(_:requestedID:client:)``).
    var store: any ArtifactStore { get }
    func submit(_ build: ResolvedBuild, requestedID: BuildID?, client: ClientID?) async throws(ProxError) -> BuildRecord
    func wait(for id: BuildID) async throws(ProxError) -> ArtifactRecord
    func record(_ id: BuildID) async throws(ProxError) -> BuildRecord?
    /// The most recent builds, newest first.
    func recent(limit: Int) async throws(ProxError) -> [BuildRecord]
    /// The build queued or running for `key` (what a request for it would join), if any.
    func building(_ key: CacheKey) async throws(ProxError) -> BuildRecord?
    /// Cancels a queued or running build (the admin API): its waiters get `.cancelled`.
    /// Returns its record as it is after that (a finished build is left as it was); nil
    /// for an unknown id.
    func cancel(_ id: BuildID) async throws(ProxError) -> BuildRecord?
    /// Stops taking builds; in-process builds are cancelled, queued ones stay queued.
    func shutdown() async
}

extension BuildService {
    public func submit(_ build: ResolvedBuild, requestedID: BuildID? = nil) async throws(ProxError) -> BuildRecord {
        try await submit(build, requestedID: requestedID, client: nil)
    }

    /// The whole of a download: the artifact for `build` from the cache, or from the
    /// build in flight for its key, or from a new build (subject to the limits), once it
    /// is there. A request that names its build (`requestedID`) always gets a build record,
    /// even for a cached artifact, so the id works like any other build's.
    ///
    /// Errors say which build they belong to (``BuildFailure/buildID``) when one was
    /// started or joined.
    public func obtain(_ build: ResolvedBuild, requestedID: BuildID? = nil, client: ClientID? = nil) async throws(BuildFailure) -> ObtainedArtifact {
        do {
            if requestedID == nil, let hit = try await store.lookup(build.cacheKey) {
                return ObtainedArtifact(artifact: hit, build: nil)
            }
        } catch {
            throw BuildFailure(error, buildID: nil)
        }
        let record: BuildRecord
        do {
            record = try await submit(build, requestedID: requestedID, client: client)
        } catch {
            throw BuildFailure(error, buildID: nil)
        }
        do {
            return ObtainedArtifact(artifact: try await wait(for: record.id), build: record)
        } catch {
            throw BuildFailure(error, buildID: record.id)
        }
    }
}
