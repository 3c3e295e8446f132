import Foundation

/// What is known about one build: for `/api/builds`, the UI, and error ids.
public struct BuildRecord: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable { case queued, running, succeeded, failed, cancelled }

    public var id: BuildID
    public var key: CacheKey
    public var build: ResolvedBuild
    public var state: State
    /// True when the request was answered from the cache without building.
    public var cached: Bool
    public var worker: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var error: ProxError?
    public var digest: String?
    public var size: Int64?
    /// Hub mode: the hub the agent delivered the artifact to.
    public var origin: String?
    /// Hub mode: how many times an agent has started the build.
    public var attempts: Int?

    public init(
        id: BuildID, key: CacheKey, build: ResolvedBuild, state: State, cached: Bool, worker: String? = nil, createdAt: Date,
        startedAt: Date? = nil, finishedAt: Date? = nil, error: ProxError? = nil, digest: String? = nil, size: Int64? = nil
    ) {
        self.id = id
        self.key = key
        self.build = build
        self.state = state
        self.cached = cached
        self.worker = worker
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.digest = digest
        self.size = size
    }

    public var isFinished: Bool { [.succeeded, .failed, .cancelled].contains(state) }
}
