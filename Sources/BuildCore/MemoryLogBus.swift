import Foundation

/// The in-process ``LogBus``: logs in memory, the most recent `retainedBuilds` kept.
public final class MemoryLogBus: LogBus, @unchecked Sendable {
    private struct Log {
        var start: Date
        var events: [BuildEvent] = []
        var finished = false
        var truncated = false
        var subscribers: [UUID: AsyncStream<BuildEvent>.Continuation] = [:]
    }

    /// Guards the logs. Never held while a continuation is yielded to or finished: a
    /// subscriber's onTermination takes it, and it runs under the cancelled task's status
    /// lock, which yielding to that task also takes (lock-order inversion: a deadlock).
    private let lock = NSLock()
    /// Serializes deliveries (yield, finish), so watchers get each build's lines in order
    /// and its end after its last line. onTermination never takes it.
    private let delivery = NSLock()
    private var logs: [BuildID: Log] = [:]
    private var order: [BuildID] = []
    public let retainedBuilds: Int
    public let maxLinesPerBuild: Int

    public init(retainedBuilds: Int = 500, maxLinesPerBuild: Int = 100_000) {
        self.retainedBuilds = retainedBuilds
        self.maxLinesPerBuild = maxLinesPerBuild
    }

    public func open(_ build: BuildID, start: Date) {
        delivery.lock()
        defer { delivery.unlock() }
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

    public func append(_ event: BuildEvent, to build: BuildID) {
        delivery.lock()
        defer { delivery.unlock() }
        let numbered = lock.withLock { () -> (BuildEvent, [AsyncStream<BuildEvent>.Continuation])? in
            guard var log = logs[build], !log.finished else { return nil }
            var numbered = event
            if log.events.count >= maxLinesPerBuild, event.stream != .info {
                guard !log.truncated else { return nil }
                log.truncated = true
                numbered = BuildEvent(step: event.step, stream: .info, text: "... log truncated after \(maxLinesPerBuild) lines")
            }
            numbered.seq = log.events.count + 1
            numbered.elapsed = (Date().timeIntervalSince(log.start) * 1000).rounded() / 1000
            log.events.append(numbered)
            logs[build] = log
            return (numbered, Array(log.subscribers.values))
        }
        guard let (line, subscribers) = numbered else { return }
        // A subscriber that went away meanwhile just drops the line (its stream has ended).
        subscribers.forEach { $0.yield(line) }
    }

    public func finish(_ build: BuildID) {
        delivery.lock()
        defer { delivery.unlock() }
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

    public func subscribe(to build: BuildID, after seq: Int) -> AsyncStream<BuildEvent>? {
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

    /// Every event of a build so far; nil for a build whose log is unknown.
    public func events(of build: BuildID) -> [BuildEvent]? {
        lock.withLock { logs[build]?.events }
    }

    /// How many live subscriptions a build's log has (for tests: watchers that go away must
    /// not leave theirs behind).
    public func subscriberCount(of build: BuildID) -> Int {
        lock.withLock { logs[build]?.subscribers.count ?? 0 }
    }
}
