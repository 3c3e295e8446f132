import BuildCore
import FileIO
import Foundation
import Logging
import Synchronization

/// One running build's log on its way to Redis: appended without blocking, sent in
/// order, in batches of whatever has accumulated, by ``run()``; retried while Redis is
/// unreachable.
final class JobLog: Sendable {
    private struct Buffer {
        var lines: [String] = []
        var finished = false
    }
    private let id: BuildID
    private let agent: String
    private let client: RedisClient
    private let schema: RedisSchema
    private let start: Date
    private let logger: Logger
    private let buffer = Mutex(Buffer())
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation
    private let lostFlag = Atomic<Bool>(false)

    init(id: BuildID, agent: String, client: RedisClient, schema: RedisSchema, start: Date, logger: Logger) {
        self.id = id
        self.agent = agent
        self.client = client
        self.schema = schema
        self.start = start
        self.logger = logger
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// True once Redis said the build belongs to another agent now.
    var lost: Bool { lostFlag.load(ordering: .relaxed) }

    func append(_ event: BuildEvent) {
        var event = event
        event.elapsed = (Date().timeIntervalSince(start) * 1000).rounded() / 1000
        guard let line = try? RedisBuildService.json(event) else { return }
        buffer.withLock { $0.lines.append(line) }
        signal.yield()
    }

    /// No more lines: ``run()`` returns once the last ones are sent.
    func finish() {
        buffer.withLock { $0.finished = true }
        signal.yield()
    }

    func run() async {
        var wakeups = signals.makeAsyncIterator()
        while true {
            let (batch, finished) = buffer.withLock { buffer -> ([String], Bool) in
                let batch = Array(buffer.lines.prefix(500))
                buffer.lines.removeFirst(batch.count)
                return (batch, buffer.finished && buffer.lines.isEmpty)
            }
            if !batch.isEmpty {
                if await !send(batch) { return }
            } else if finished {
                return
            } else {
                _ = await wakeups.next()
            }
        }
    }

    /// Sends one batch; false when the build is no longer this agent's.
    private func send(_ batch: [String]) async -> Bool {
        guard !lost else { return false }
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        for _ in 0..<100 {
            do throws(RedisError) {
                let now = RedisBuildService.milliseconds(Date())
                let reply = try await client.eval(RedisScripts.append, [schema.prefix, id, agent, schema.maxLogLines, now] + batch)
                if reply.int == -1 {
                    lostFlag.store(true, ordering: .relaxed)
                    return false
                }
                return true
            } catch {
                if error.kind == .server {
                    logger.error("cannot write the build log: \(error.message)")
                    return true
                }
                await backoff.pause()
            }
        }
        logger.warning("dropped \(batch.count) log line(s): Redis unreachable")
        return true
    }
}
