import Foundation

/// Carries each build's log from the worker to every watcher.
///
/// Contract: ``append(_:to:)`` never blocks and numbers events 1, 2, 3... per build; a
/// subscriber gets every event after the one it names (replay), then live events, and its
/// stream ends when the build's log is finished. Logs of old builds may be dropped
/// (``subscribe(to:after:)`` then returns nil).
public protocol LogBus: LogSource {
    /// Starts a build's log. Elapsed times are measured from `start`.
    func open(_ build: String, start: Date)
    func append(_ event: BuildEvent, to build: String)
    func finish(_ build: String)
    /// Every event of a build so far (for tests and error messages).
    func events(of build: String) -> [BuildEvent]?
}

/// The in-process ``LogBus``: logs in memory, the most recent `retainedBuilds` kept.
public final class MemoryLogBus: LogBus, @unchecked Sendable {
    private struct Log {
        var start: Date
        var events: [BuildEvent] = []
        var finished = false
        var truncated = false
        var subscribers: [UUID: AsyncStream<BuildEvent>.Continuation] = [:]
    }

    private let lock = NSLock()
    private var logs: [String: Log] = [:]
    private var order: [String] = []
    public let retainedBuilds: Int
    public let maxLinesPerBuild: Int

    public init(retainedBuilds: Int = 500, maxLinesPerBuild: Int = 100_000) {
        self.retainedBuilds = retainedBuilds
        self.maxLinesPerBuild = maxLinesPerBuild
    }

    public func open(_ build: String, start: Date) {
        // Continuations are finished outside the lock: finishing runs onTermination, which locks.
        let dropped = lock.withLock { () -> [AsyncStream<BuildEvent>.Continuation] in
            guard logs[build] == nil else { return [] }
            logs[build] = Log(start: start)
            order.append(build)
            var dropped: [AsyncStream<BuildEvent>.Continuation] = []
            while order.count > retainedBuilds {
                let old = order.removeFirst()
                if let log = logs.removeValue(forKey: old) { dropped += log.subscribers.values }
            }
            return dropped
        }
        dropped.forEach { $0.finish() }
    }

    public func append(_ event: BuildEvent, to build: String) {
        lock.withLock {
            guard var log = logs[build], !log.finished else { return }
            if log.events.count >= maxLinesPerBuild, event.stream != .info {
                guard !log.truncated else { return }
                log.truncated = true
                var note = BuildEvent(step: event.step, stream: .info, text: "... log truncated after \(maxLinesPerBuild) lines")
                note.seq = log.events.count + 1
                note.elapsed = Date().timeIntervalSince(log.start)
                log.events.append(note)
                log.subscribers.values.forEach { $0.yield(note) }
                logs[build] = log
                return
            }
            var numbered = event
            numbered.seq = log.events.count + 1
            numbered.elapsed = (Date().timeIntervalSince(log.start) * 1000).rounded() / 1000
            log.events.append(numbered)
            log.subscribers.values.forEach { $0.yield(numbered) }
            logs[build] = log
        }
    }

    public func finish(_ build: String) {
        let subscribers = lock.withLock { () -> [AsyncStream<BuildEvent>.Continuation] in
            guard var log = logs[build] else { return [] }
            log.finished = true
            let subscribers = Array(log.subscribers.values)
            log.subscribers = [:]
            logs[build] = log
            return subscribers
        }
        subscribers.forEach { $0.finish() }
    }

    public func subscribe(to build: String, after seq: Int) -> AsyncStream<BuildEvent>? {
        let id = UUID()
        return lock.withLock { () -> AsyncStream<BuildEvent>? in
            guard var log = logs[build] else { return nil }
            let (stream, continuation) = AsyncStream.makeStream(of: BuildEvent.self, bufferingPolicy: .unbounded)
            for event in log.events where event.seq > seq { continuation.yield(event) }
            if log.finished {
                continuation.finish()
            } else {
                log.subscribers[id] = continuation
                logs[build] = log
                continuation.onTermination = { [weak self] _ in
                    self?.lock.withLock { _ = self?.logs[build]?.subscribers.removeValue(forKey: id) }
                }
            }
            return stream
        }
    }

    public func events(of build: String) -> [BuildEvent]? {
        lock.withLock { logs[build]?.events }
    }

    /// How many live subscriptions a build's log has (for tests: watchers that go away must
    /// not leave theirs behind).
    public func subscriberCount(of build: String) -> Int {
        lock.withLock { logs[build]?.subscribers.count ?? 0 }
    }
}
