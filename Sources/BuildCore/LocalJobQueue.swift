import Foundation

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
            try await slots.acquire(background: job.background)
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
