import Foundation

/// One build to run: its id (also the log's id), exact inputs and cache key.
public struct BuildJob: Sendable, Codable, Equatable {
    public var id: String
    public var build: ResolvedBuild
    public var key: CacheKey
    public var enqueuedAt: Date

    public init(id: String, build: ResolvedBuild, enqueuedAt: Date = Date()) {
        self.id = id
        self.build = build
        self.key = build.cacheKey
        self.enqueuedAt = enqueuedAt
    }

    /// The first lines of every build's log, written when it is queued (in process or on
    /// Redis): what will be built, with which toolchain, and each plugin's exact version.
    public var queuedEvents: [BuildEvent] {
        [BuildEvent(step: .queued, stream: .info, text: "build \(id) queued: Caddy \(build.caddyVersion) for \(build.platform), \(build.settings.goVersion)")]
            + build.plugins.map { plugin in
                BuildEvent(step: .resolve, stream: .info, text: "plugin \(plugin.path) \(plugin.module)@\(plugin.version)" + (plugin.replacement.map { " => \($0)" } ?? ""))
            }
    }
}

/// Runs build jobs somewhere (in this process, or on agents) and delivers their artifacts
/// into the ``ArtifactStore``.
///
/// Contract: ``run(_:events:started:)`` returns only when the job's artifact is committed
/// to the store, or throws a ``ProxError`` saying why it never will be. `started` is called
/// once, with a worker name, when a worker begins the job (jobs wait for a free slot first,
/// first in, first out). Cancelling the calling task cancels the job.
public protocol JobQueue: Sendable {
    func run(
        _ job: BuildJob, events: @escaping BuildEventSink, started: @escaping @Sendable (String) -> Void
    ) async throws(ProxError) -> ArtifactRecord
}

/// The standalone ``JobQueue``: at most `slots` builds at once in this process, FIFO.
public struct LocalJobQueue: JobQueue {
    public let runner: any BuildRunner
    public let store: any ArtifactStore
    private let slots: FIFOSemaphore

    public init(runner: any BuildRunner, store: any ArtifactStore, slots: Int) {
        self.runner = runner
        self.store = store
        self.slots = FIFOSemaphore(slots)
    }

    public func run(
        _ job: BuildJob, events: @escaping BuildEventSink, started: @escaping @Sendable (String) -> Void
    ) async throws(ProxError) -> ArtifactRecord {
        do {
            try await slots.acquire()
        } catch {
            throw ProxError(.cancelled, "the build was cancelled while it waited for a free slot")
        }
        defer { Task { await slots.release() } }
        started("local")
        let output = store.stagingDirectory + "/\(job.id)-\(UUID().uuidString.prefix(8))" + job.build.platform.executableSuffix
        do {
            try await runner.build(job.build, output: output, events: events)
        } catch {
            // The runner's contract says it leaves nothing; the store makes sure.
            await store.discardStaged(output)
            throw error
        }
        events(BuildEvent(step: .commit, stream: .info, text: "storing the artifact in the cache"))
        return try await store.commit(key: job.key, build: job.build, file: output, expectedDigest: nil)
    }
}

/// A counting semaphore that wakes waiters in arrival order and honours cancellation.
public actor FIFOSemaphore {
    private var available: Int
    private var waiters: [(id: UUID, continuation: CheckedContinuation<Void, any Error>)] = []

    public init(_ count: Int) { self.available = count }

    public func acquire() async throws {
        if available > 0, waiters.isEmpty {
            available -= 1
            return
        }
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    public func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().continuation.resume()
        }
    }

    private func cancel(_ id: UUID) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    /// Jobs waiting for a slot.
    public var waiting: Int { waiters.count }
}
