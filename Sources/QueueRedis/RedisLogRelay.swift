import BuildCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Relays build logs from their Redis streams to every watcher in this hub (SSE,
/// WebSocket, requests waiting for a build).
///
/// One blocking connection serves all watchers: a loop reads every watched log at once
/// (`XREAD BLOCK ... STREAMS log:a log:b ...`) and fans each line out. A new watcher is
/// first given the log from its first line (`XRANGE`), in the same loop, so nothing is
/// missed or repeated between replay and live lines; to add it, the loop is woken through
/// a small stream of its own. If Redis goes away the loop retries with backoff and every
/// watcher resumes where it was.
public final class RedisLogRelay: LogSource, Service, Sendable {
    private struct Watcher {
        let continuation: AsyncStream<BuildEvent>.Continuation
        /// The last line given to this watcher; `Int.max` for watchers of the end only.
        var lastSeq: Int
    }
    private struct Tail {
        var cursor: String
        var watchers: [UUID: Watcher]
    }
    private struct State {
        var tails: [BuildID: Tail] = [:]
        var pending: [(build: BuildID, id: UUID, watcher: Watcher)] = []
        var cancelled: Set<UUID> = []
        var stopped = false
    }

    private let connection: RedisConnection
    private let client: RedisClient
    private let schema: RedisSchema
    private let logger: Logger
    private let wakeKey: String
    private let block: Duration
    private let state = Mutex(State())

    public init(client: RedisClient, schema: RedisSchema, logger: Logger, block: Duration = .seconds(1)) {
        let name = UUID().uuidString.prefix(8).lowercased()
        self.connection = RedisConnection(configuration: client.configuration, name: "relay.\(name)", logger: logger)
        self.client = client
        self.schema = schema
        self.logger = logger
        self.wakeKey = schema.wake(String(name))
        self.block = block
    }

    /// Every line of `build`'s log after `seq`, then live lines, ending with the log. Nil
    /// when Redis has no log for `build` (unknown or expired). `seq == Int.max` watches for
    /// the end only.
    public func subscribe(to build: BuildID, after seq: Int) async -> AsyncStream<BuildEvent>? {
        if case .integer(0)? = try? await client.send(["EXISTS", schema.log(build)]) { return nil }
        let (stream, continuation) = AsyncStream.makeStream(of: BuildEvent.self, bufferingPolicy: .unbounded)
        let id = UUID()
        let admitted = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.pending.append((build, id, Watcher(continuation: continuation, lastSeq: seq)))
            return true
        }
        guard admitted else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.cancelled.insert(id) }
        }
        await wake()
        return stream
    }

    /// Returns when `build`'s log ends, or after `limit`, whichever is first.
    public func waitForEnd(of build: BuildID, upTo limit: Duration) async {
        guard let stream = await subscribe(to: build, after: .max) else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in stream {} }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    /// The relay loop; ends (finishing every watcher) when cancelled or on graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        let watchers = state.withLock { state -> [Watcher] in
            state.stopped = true
            let all = state.tails.values.flatMap { $0.watchers.values } + state.pending.map(\.watcher)
            state.tails = [:]
            state.pending = []
            return all
        }
        watchers.forEach { $0.continuation.finish() }
        await connection.close()
    }

    private func loop() async {
        var wakeCursor = "0-0"
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        var lastSweep = ContinuousClock.now
        while !Task.isCancelled {
            do throws(RedisError) {
                try await admitPending()
                let (keys, cursors) = state.withLock { state -> ([String], [String]) in
                    Self.prune(&state)
                    let builds = state.tails.keys.sorted { $0.rawValue < $1.rawValue }
                    return (builds.map(schema.log), builds.map { state.tails[$0]!.cursor })
                }
                let blockMilliseconds = RedisSchema.milliseconds(block)
                let arguments: [any RedisArgument] =
                    ["XREAD", "COUNT", 1000, "BLOCK", blockMilliseconds, "STREAMS", wakeKey] + keys + [wakeCursor] + cursors
                let reply = try await connection.send(arguments, timeout: block + .seconds(5))
                if reply.isNull, ContinuousClock.now - lastSweep > .seconds(5) {
                    lastSweep = .now
                    try await endVanishedLogs()
                }
                for stream in reply.array ?? [] {
                    guard let pair = stream.array, pair.count == 2, let key = pair[0].string, let entries = pair[1].array else { continue }
                    if key == wakeKey {
                        if let last = entries.last?.array?.first?.string { wakeCursor = last }
                    } else if let build = BuildID(rawValue: String(key.dropFirst(schema.logPrefix.count))) {
                        deliver(entries, of: build)
                    }
                }
                backoff.reset()
            } catch {
                logger.debug("log relay: \(error.message)")
                await backoff.pause()
            }
        }
    }

    /// Replays the log of each new watcher and adds it to the watched set.
    private func admitPending() async throws(RedisError) {
        let pending = state.withLock { state -> [(build: BuildID, id: UUID, watcher: Watcher)] in
            defer { state.pending = [] }
            return state.pending
        }
        for (index, item) in pending.enumerated() {
            do throws(RedisError) {
                try await admit(item.build, id: item.id, watcher: item.watcher)
            } catch {
                state.withLock { $0.pending.insert(contentsOf: pending[index...], at: 0) }
                throw error
            }
        }
    }

    private func admit(_ build: BuildID, id: UUID, watcher: Watcher) async throws(RedisError) {
        var watcher = watcher
        let entries: [RedisReply]
        if watcher.lastSeq == .max {
            entries = try await connection.send(["XREVRANGE", schema.log(build), "+", "-", "COUNT", 1]).array ?? []
        } else {
            entries = try await connection.send(["XRANGE", schema.log(build), "-", "+"]).array ?? []
        }
        var cursor = "0-0"
        for entry in entries {
            guard let (entryID, fields) = Self.entry(entry) else { continue }
            cursor = entryID
            if fields["end"] != nil {
                watcher.continuation.finish()
                return
            }
            if let event = Self.event(fields), event.seq > watcher.lastSeq {
                watcher.continuation.yield(event)
                watcher.lastSeq = event.seq
            }
        }
        if entries.isEmpty, case .integer(0) = try await connection.send(["EXISTS", schema.log(build)]) {
            watcher.continuation.finish()  // expired while it was being admitted
            return
        }
        state.withLock { state in
            // A log already watched keeps its (older) cursor: this watcher skips what it has seen.
            state.tails[build, default: Tail(cursor: cursor, watchers: [:])].watchers[id] = watcher
        }
    }

    private func deliver(_ entries: [RedisReply], of build: BuildID) {
        // Decided under the lock, yielded after it: a watcher's onTermination takes the lock
        // under its task's status lock, which a yield to that task also takes (holding the
        // lock while yielding could deadlock). Only this loop delivers, so order is kept.
        let (lines, finished) = state.withLock { state -> ([(AsyncStream<BuildEvent>.Continuation, BuildEvent)], [Watcher]) in
            guard var tail = state.tails[build] else { return ([], []) }
            var lines: [(AsyncStream<BuildEvent>.Continuation, BuildEvent)] = []
            for entry in entries {
                guard let (entryID, fields) = Self.entry(entry) else { continue }
                tail.cursor = entryID
                if fields["end"] != nil {
                    state.tails[build] = nil
                    return (lines, Array(tail.watchers.values))
                }
                guard let event = Self.event(fields) else { continue }
                for (id, var watcher) in tail.watchers where event.seq > watcher.lastSeq {
                    lines.append((watcher.continuation, event))
                    watcher.lastSeq = event.seq
                    tail.watchers[id] = watcher
                }
            }
            state.tails[build] = tail
            return (lines, [])
        }
        for (continuation, event) in lines { continuation.yield(event) }
        finished.forEach { $0.continuation.finish() }
    }

    /// Ends the watchers of logs that no longer exist (Redis restarted without its data).
    private func endVanishedLogs() async throws(RedisError) {
        let builds = state.withLock { Array($0.tails.keys) }
        guard !builds.isEmpty else { return }
        let replies = try await connection.pipeline(builds.map { ["EXISTS", schema.log($0)] })
        let gone = zip(builds, replies).filter { $0.1 == .integer(0) }.map(\.0)
        let watchers = state.withLock { state in gone.flatMap { state.tails.removeValue(forKey: $0)?.watchers.values.map { $0 } ?? [] } }
        watchers.forEach { $0.continuation.finish() }
    }

    /// Drops watchers that went away, and logs nobody watches any more.
    private static func prune(_ state: inout State) {
        guard !state.cancelled.isEmpty else { return }
        for (build, var tail) in state.tails {
            for id in tail.watchers.keys where state.cancelled.contains(id) { tail.watchers[id] = nil }
            state.tails[build] = tail.watchers.isEmpty ? nil : tail
        }
        state.pending.removeAll { state.cancelled.contains($0.id) }
        state.cancelled = []
    }

    private func wake() async {
        _ = try? await client.pipeline([
            ["XADD", wakeKey, "MAXLEN", 1, "*", "w", 1],
            ["EXPIRE", wakeKey, 3600],
        ])
    }

    // MARK: - Entries

    static func entry(_ reply: RedisReply) -> (String, [String: String])? {
        guard let parts = reply.array, parts.count == 2, let id = parts[0].string else { return nil }
        return (id, parts[1].fields)
    }

    static func event(_ fields: [String: String]) -> BuildEvent? {
        guard let text = fields["event"], let seq = fields["seq"].flatMap(Int.init),
            var event = try? JSONDecoder.prox.decode(BuildEvent.self, from: Data(text.utf8))
        else { return nil }
        event.seq = seq
        return event
    }
}
