import BuildCore
import CoreMetrics
import Foundation

/// A ``JobQueue`` that counts its builds (the standalone hub's): how many wait and run,
/// how long they waited for a slot, and how each ended and how long it ran.
///
///     prox_build_queue_depth             builds waiting for a slot
///     prox_build_slots_busy              builds running
///     prox_build_queue_wait_seconds      histogram: queued to started
///     prox_builds_total{outcome}         succeeded, failed, timed_out, cancelled, …
///     prox_build_duration_seconds{outcome}  histogram: started to finished
public struct MeteredJobQueue: JobQueue {
    public let base: any JobQueue
    let metrics: ProxMetrics

    public init(_ base: any JobQueue, metrics: ProxMetrics) {
        self.base = base
        self.metrics = metrics
        metrics.gauge("prox_build_queue_depth").set(0)
        metrics.gauge("prox_build_slots_busy").set(0)
    }

    public func run(
        _ job: BuildJob, events: @escaping BuildEventSink, started: @escaping @Sendable (String) -> Void
    ) async throws(ProxError) -> ArtifactRecord {
        let depth = metrics.gauge("prox_build_queue_depth")
        let busy = metrics.gauge("prox_build_slots_busy")
        let queued = ContinuousClock.now
        let start = StartMark()
        depth.increment(by: 1)
        defer {
            if let began = start.instant {
                busy.decrement(by: 1)
                metrics.timer("prox_build_duration_seconds", [("outcome", start.outcome)]).recordInterval(began, .now)
            } else {
                depth.decrement(by: 1)  // ended while it waited (cancelled)
            }
            metrics.counter("prox_builds_total", [("outcome", start.outcome)]).increment()
        }
        do {
            let artifact = try await base.run(job, events: events) { worker in
                if start.begin() {
                    depth.decrement(by: 1)
                    busy.increment(by: 1)
                    metrics.timer("prox_build_queue_wait_seconds").recordInterval(queued, .now)
                }
                started(worker)
            }
            start.outcome = "succeeded"
            return artifact
        } catch {
            start.outcome = ProxMetrics.outcome(of: error)
            throw error
        }
    }
}

/// When a job started (set once, from the queue's `started` callback) and how it ended.
final class StartMark: @unchecked Sendable {
    private let lock = NSLock()
    private var began: ContinuousClock.Instant?
    private var ended = "error"

    /// True the first time.
    func begin() -> Bool {
        lock.withLock {
            guard began == nil else { return false }
            began = .now
            return true
        }
    }

    var instant: ContinuousClock.Instant? { lock.withLock { began } }
    var outcome: String {
        get { lock.withLock { ended } }
        set { lock.withLock { ended = newValue } }
    }
}

extension CoreMetrics.Timer {
    func recordInterval(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (to - from).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
