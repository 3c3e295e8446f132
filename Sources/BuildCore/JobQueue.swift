
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
