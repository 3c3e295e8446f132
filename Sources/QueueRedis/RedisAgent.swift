import BuildCore
import FileIO
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// `proxagent`'s worker: takes build jobs from the Redis stream, at most `slots` at a
/// time, first in first out, runs them with a ``BuildRunner``, streams their logs to Redis
/// and delivers the artifacts to the hub.
///
/// - Jobs: `XAUTOCLAIM` first (jobs whose agent stopped renewing its lease, oldest first),
///   then `XREADGROUP ... >` (new jobs), never more than the free slots.
/// - Lease: every `lease / 3` a heartbeat resets the idle time of this agent's claims and
///   renews their in-flight markers; a build another agent has reclaimed is stopped.
/// - A job is acknowledged only when its artifact is in the hub's cache or its failure is
///   recorded (one script, ``RedisScripts/complete``).
/// - Graceful shutdown: no new jobs; running ones get `shutdownTimeout` to finish, then are
///   cancelled and handed back to the queue for another agent.
public final class RedisAgent: Service, Sendable {
    public struct Options: Sendable {
        public var name: String
        public var slots: Int
        public var maxAttempts: Int
        public var lease: Duration
        public var shutdownTimeout: Duration
        /// How long a finished artifact's delivery is retried while the hub is unreachable.
        public var deliveryTimeout: Duration
        /// Block time of one `XREADGROUP` wait (also how quickly shutdown is noticed).
        public var pollInterval: Duration

        public init(
            name: String, slots: Int = 2, maxAttempts: Int = 3, lease: Duration = .seconds(30),
            shutdownTimeout: Duration = .seconds(60), deliveryTimeout: Duration = .seconds(600), pollInterval: Duration = .seconds(2)
        ) {
            self.name = name
            self.slots = slots
            self.maxAttempts = maxAttempts
            self.lease = lease
            self.shutdownTimeout = shutdownTimeout
            self.deliveryTimeout = deliveryTimeout
            self.pollInterval = pollInterval
        }
    }

    private enum StopReason { case lost, shutdown }
    private struct Running {
        let entry: String
        let stream: String
        /// Cancels the build; nil until the build has started.
        var cancel: (@Sendable () -> Void)?
        var stopReason: StopReason?
    }
    private struct State {
        var running: [BuildID: Running] = [:]
        /// The job streams read: this agent's local toolchains', and with downloads every
        /// stream a hub has queued to (``RedisSchema/streams``).
        var streams: [String] = []
        var shuttingDown = false
        var completed = 0
    }

    public let options: Options
    /// The default toolchain.
    public let goVersion: String
    /// Every local toolchain, the default first.
    public let toolchains: [String]
    /// May download toolchains it lacks (it then takes jobs of every toolchain).
    public let downloads: Bool
    /// The toolchain versions its module proxy lists for this host (advertised to hubs).
    private let downloadable: @Sendable () async -> [String]
    private let runner: any BuildRunner
    private let delivery: any ArtifactDelivery
    private let client: RedisClient
    private let fetcher: RedisConnection
    private let schema: RedisSchema
    private let workDirectory: String
    private let logger: Logger
    private let state = Mutex(State())
    private let slotFreed: AsyncStream<Void>.Continuation
    private let slotFreedStream: AsyncStream<Void>

    public init(
        options: Options, goVersion: String, toolchains: [String] = [], downloads: Bool = false,
        downloadable: @escaping @Sendable () async -> [String] = { [] }, runner: any BuildRunner, delivery: any ArtifactDelivery,
        redis: RedisConfiguration, schema: RedisSchema = RedisSchema(), workDirectory: String, logger: Logger
    ) {
        self.options = options
        self.goVersion = goVersion
        self.toolchains = [goVersion] + toolchains.filter { $0 != goVersion }
        self.downloads = downloads
        self.downloadable = downloadable
        self.runner = runner
        self.delivery = delivery
        self.client = RedisClient(configuration: redis, connections: 2, name: "agent", logger: logger)
        self.fetcher = RedisConnection(configuration: redis, name: "agent.fetch", logger: logger)
        self.schema = schema
        self.workDirectory = workDirectory
        var logger = logger
        logger[metadataKey: "agent"] = "\(options.name)"
        self.logger = logger
        (slotFreedStream, slotFreed) = AsyncStream.makeStream(of: Void.self)
    }

    /// Checks Redis (address, credentials) and creates the consumer group: start-up calls
    /// this to fail early with a clear message.
    public func connect() async throws(RedisError) {
        try await client.connect()
        try await refreshStreams()
    }

    /// True when a job planned with toolchain `version` can run here.
    public func canBuild(_ version: String) -> Bool { toolchains.contains(version) || downloads }

    /// The streams of this agent's local toolchains (users' builds and the server's own),
    /// plus, when it may download, every stream a hub has queued to; each new one gets the
    /// consumer group.
    private func refreshStreams() async throws(RedisError) {
        var wanted = toolchains.flatMap { [schema.jobs(goVersion: $0), schema.backgroundJobs(goVersion: $0)] }
        if downloads {
            let known = try await client.send(["SMEMBERS", schema.streams]).array?.compactMap(\.string) ?? []
            wanted += known.filter { $0.hasPrefix(schema.jobs(goVersion: "")) && !wanted.contains($0) }.sorted()
        }
        let current = state.withLock { $0.streams }
        for stream in wanted where !current.contains(stream) { try await createGroup(stream) }
        state.withLock { $0.streams = wanted }
    }

    /// Jobs finished here (succeeded or failed), for tests and logs.
    public var completedJobs: Int { state.withLock { $0.completed } }

    public func run() async throws {
        logger.info(
            "agent started",
            metadata: ["go": "\(toolchains.joined(separator: ","))", "downloads": "\(downloads)", "slots": "\(options.slots)"]
        )
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeats() }
            await withGracefulShutdownHandler {
                await self.takeJobs()
            } onGracefulShutdown: {
                self.state.withLock { $0.shuttingDown = true }
                self.slotFreed.yield()
            }
            group.cancelAll()
        }
        _ = try? await client.send(["HDEL", schema.agents, options.name])
        await client.close()
        await fetcher.close()
        logger.info("agent stopped")
    }

    // MARK: - Taking jobs

    private func takeJobs() async {
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
        var slotSignals = slotFreedStream.makeAsyncIterator()
        await withDiscardingTaskGroup { jobs in
            while true {
                let (stopping, busy) = state.withLock { ($0.shuttingDown, $0.running.count) }
                if stopping || Task.isCancelled { break }
                let free = options.slots - busy
                if free <= 0 {
                    _ = await slotSignals.next()
                    continue
                }
                let entries: [(stream: String, entry: String, fields: [String: String])]
                do throws(RedisError) {
                    try await refreshStreams()
                    entries = try await take(free)
                    backoff.reset()
                } catch {
                    if error.message.contains("NOGROUP") {
                        state.withLock { $0.streams = [] }  // made again by the next refresh
                    } else {
                        logger.warning("cannot take jobs: \(error.message)")
                        await backoff.pause()
                    }
                    continue
                }
                for (stream, entry, fields) in entries {
                    guard let id = fields["build"].flatMap(BuildID.init(rawValue:)) else {
                        _ = try? await client.pipeline([["XACK", stream, RedisSchema.group, entry], ["XDEL", stream, entry]])
                        continue
                    }
                    // Reclaiming our own claim (its renewals failed while Redis was away) only
                    // renews it: the build is still running here.
                    let fresh = state.withLock { state -> Bool in
                        guard state.running[id] == nil else { return false }
                        state.running[id] = Running(entry: entry, stream: stream)
                        return true
                    }
                    guard fresh else { continue }
                    jobs.addTask {
                        await self.execute(id: id, entry: entry, stream: stream, fields: fields)
                        self.state.withLock { $0.running[id] = nil }
                        self.slotFreed.yield()
                    }
                }
            }
            // Jobs that were taken while shutdown began wait in `drain()`.
            await drain()
        }
    }

    /// Reclaimed jobs first (their lease ran out: oldest work first), then new ones.
    private func take(_ count: Int) async throws(RedisError) -> [(stream: String, entry: String, fields: [String: String])] {
        var taken: [(stream: String, entry: String, fields: [String: String])] = []
        let streams = state.withLock { $0.streams }
        for stream in streams where taken.count < count {
            var cursor = "0-0"
            for _ in 0..<10 where taken.count < count {
                let reply = try await client.send([
                    "XAUTOCLAIM", stream, RedisSchema.group, options.name, RedisSchema.milliseconds(options.lease), cursor,
                    "COUNT", count - taken.count,
                ])
                guard let parts = reply.array, parts.count >= 2 else { break }
                for item in parts[1].array ?? [] {
                    guard let entry = item.array, entry.count == 2, let id = entry[0].string else { continue }
                    taken.append((stream, id, entry[1].fields))
                }
                cursor = parts[0].string ?? "0-0"
                if cursor == "0-0" { break }
            }
        }
        if !taken.isEmpty {
            logger.notice("reclaimed jobs whose lease ran out (an agent stopped responding) or that an agent handed back", metadata: ["entries": "\(taken.map(\.1))"])
        }
        guard taken.count < count else { return taken }
        guard !streams.isEmpty else {
            try? await Task.sleep(for: options.pollInterval)
            return taken
        }
        // Users' builds first; the server's own (cache warming) only when none waits. Only
        // when neither has a job waiting does the agent block, on all of them.
        let users = streams.filter { !RedisSchema.isBackground(stream: $0) }, background = streams.filter(RedisSchema.isBackground(stream:))
        for group in [users, background] where taken.count < count && !group.isEmpty {
            taken += try await read(group, count: count - taken.count, block: nil)
        }
        if taken.isEmpty {
            taken = try await read(streams, count: count, block: options.pollInterval)
        }
        return taken
    }

    /// New entries of `streams`, at most `count`: users' before the server's own, oldest
    /// first. XREADGROUP gives up to COUNT entries of each stream, so it can deliver more
    /// than there are free slots; the surplus is handed back at once (its idle time set past
    /// the lease, so the next agent to look for work, this one included, reclaims it).
    private func read(_ streams: [String], count: Int, block: Duration?) async throws(RedisError) -> [(stream: String, entry: String, fields: [String: String])] {
        var read: [any RedisArgument] = ["XREADGROUP", "GROUP", RedisSchema.group, options.name, "COUNT", count]
        if let block { read += ["BLOCK", RedisSchema.milliseconds(block)] }
        read += ["STREAMS"] + streams.map { $0 as any RedisArgument } + streams.map { _ in ">" as any RedisArgument }
        let reply = try await fetcher.send(read, timeout: (block ?? .zero) + .seconds(5))
        var entries: [(stream: String, entry: String, fields: [String: String])] = []
        for streamReply in reply.array ?? [] {
            guard let pair = streamReply.array, pair.count == 2, let stream = pair[0].string else { continue }
            for item in pair[1].array ?? [] {
                guard let entry = item.array, entry.count == 2, let id = entry[0].string else { continue }
                entries.append((stream, id, entry[1].fields))
            }
        }
        guard entries.count > 1 else { return entries }
        entries.sort { a, b in
            let (ab, bb) = (RedisSchema.isBackground(stream: a.stream), RedisSchema.isBackground(stream: b.stream))
            return ab != bb ? !ab : Self.entryTime(a.entry) < Self.entryTime(b.entry)
        }
        if entries.count > count {
            let idle = RedisSchema.milliseconds(options.lease) * 100
            let surplus = entries[count...].map { ["XCLAIM", $0.stream, RedisSchema.group, options.name, 0, $0.entry, "IDLE", idle, "JUSTID"] as [any RedisArgument] }
            _ = try? await client.pipeline(Array(surplus))  // unreachable Redis: reclaimed when the lease runs out
            entries.removeLast(entries.count - count)
        }
        return entries
    }

    /// A stream entry id's order: `<ms>-<sequence>`.
    static func entryTime(_ id: String) -> (Int64, Int64) {
        let parts = id.split(separator: "-")
        return (parts.first.flatMap { Int64($0) } ?? 0, parts.count > 1 ? Int64(parts[1]) ?? 0 : 0)
    }

    private func createGroup(_ stream: String) async throws(RedisError) {
        do throws(RedisError) {
            _ = try await client.send(["XGROUP", "CREATE", stream, RedisSchema.group, "0", "MKSTREAM"])
        } catch where error.kind == .server && error.message.hasPrefix("BUSYGROUP") {
            return
        }
    }

    // MARK: - One job

    private func execute(id: BuildID, entry: String, stream: String, fields: [String: String]) async {
        var logger = self.logger
        logger[metadataKey: "build"] = "\(id)"
        guard let text = fields["job"], let job = try? JSONDecoder.prox.decode(BuildJob.self, from: Data(text.utf8)), job.id == id,
            canBuild(job.build.settings.goVersion)
        else {
            logger.error("dropping an unreadable job entry", metadata: ["entry": "\(entry)"])
            await record(
                id: id, entry: entry, stream: stream, .failure(ProxError(.internal, "the job in the queue could not be read by agent \(options.name)")),
                build: nil, logger: logger
            )
            return
        }
        let now = RedisBuildService.milliseconds(Date())
        let started: RedisReply
        do throws(RedisError) {
            started = try await client.eval(RedisScripts.start, [
                schema.prefix, id, options.name, now, options.maxAttempts, stream, RedisSchema.group, entry,
                RedisSchema.seconds(schema.logTTL), RedisSchema.seconds(schema.recordTTL), RedisSchema.milliseconds(schema.markerTTL),
            ])
        } catch {
            // Left pending: it is reclaimed (by this agent or another) once its lease runs out.
            logger.warning("cannot start the job: \(error.message)")
            return
        }
        guard started.array?.first?.string == "started" else {
            logger.notice("job not started", metadata: ["outcome": "\(started.array?.compactMap(\.string) ?? [])"])
            return
        }
        logger.info("build started", metadata: ["attempt": "\(started.array?.last?.string ?? "?")"])

        let log = JobLog(id: id, agent: options.name, client: client, schema: schema, start: job.enqueuedAt, logger: logger)
        let writer = Task { await log.run() }
        let build = Task { await self.build(job, log: log) }
        let stopReason = state.withLock { state -> StopReason? in
            state.running[id]?.cancel = { build.cancel() }
            return state.running[id]?.stopReason
        }
        if stopReason != nil { build.cancel() }
        let outcome = await build.value
        log.finish()
        await writer.value

        let reason = state.withLock { $0.running[id]?.stopReason }
        if log.lost || reason == .lost {
            logger.notice("build taken over by another agent: its result here is dropped")
            return
        }
        if reason == .shutdown {
            await handBack(id: id, entry: entry, stream: stream, logger: logger)
            return
        }
        await record(id: id, entry: entry, stream: stream, outcome, build: job.build, logger: logger)
    }

    /// Builds, then delivers: the artifact's digest and hub URL, or the failure.
    private func build(_ job: BuildJob, log: JobLog) async -> Result<(digest: String, size: Int64, origin: String), ProxError> {
        let directory = workDirectory + "/out"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let output = directory + "/\(job.id)-\(UUID().uuidString.prefix(8))" + job.build.platform.executableSuffix
        defer { unlink(output) }
        do throws(ProxError) {
            try await runner.build(job.build, output: output, events: { log.append($0) })
            let (digest, size) = try await FileDigest.sha256(ofFileAt: output)
            log.append(BuildEvent(step: .commit, stream: .info, text: "delivering the artifact to the hub: sha256 \(digest), \(size) bytes"))
            let origin = try await deliver(job, file: output, digest: digest, size: size, log: log)
            return .success((digest, size, origin))
        } catch {
            return .failure(error)
        }
    }

    /// Delivers with retries (1 s doubling to 15 s) while the hub is unreachable.
    private func deliver(_ job: BuildJob, file: String, digest: String, size: Int64, log: JobLog) async throws(ProxError) -> String {
        let deadline = ContinuousClock.now + options.deliveryTimeout
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(15))
        while true {
            do throws(ProxError) {
                return try await delivery.deliver(job, file: file, digest: digest, size: size)
            } catch {
                let pause = backoff.current
                guard error.kind == .unavailable, !Task.isCancelled, ContinuousClock.now + pause < deadline else { throw error }
                log.append(BuildEvent(step: .commit, stream: .info, text: "the hub did not take the artifact (\(error.message)): retrying in \(pause)"))
                await backoff.pause()
            }
        }
    }

    /// Records the result and acknowledges the job, retrying while Redis is unreachable
    /// (the heartbeat keeps the lease meanwhile); once recorded, what the build taught about
    /// its plugins (``RedisCompatibilityStore``), so a job run twice is counted once.
    private func record(
        id: BuildID, entry: String, stream: String, _ outcome: Result<(digest: String, size: Int64, origin: String), ProxError>,
        build: ResolvedBuild?, logger: Logger
    ) async {
        let now = RedisBuildService.milliseconds(Date())
        var arguments: [any RedisArgument] = [
            schema.prefix, id, options.name, "", now, RedisSchema.seconds(schema.logTTL), RedisSchema.seconds(schema.recordTTL),
            stream, RedisSchema.group, entry,
        ]
        switch outcome {
        case .success(let artifact):
            arguments[3] = "succeeded"
            arguments += [artifact.digest, String(artifact.size), artifact.origin, "", "build succeeded on agent \(options.name): sha256 \(artifact.digest), \(artifact.size) bytes"]
        case .failure(let error):
            let state = error.kind == .cancelled ? "cancelled" : "failed"
            arguments[3] = state
            let errorJSON = (try? RedisBuildService.json(error)) ?? "{}"
            arguments += ["", "", "", errorJSON, "build \(state) on agent \(options.name): \(error.message)"]
        }
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
        for _ in 0..<200 {
            do throws(RedisError) {
                let reply = try await client.eval(RedisScripts.complete, arguments)
                guard reply.string == "ok" else {
                    logger.notice("result not recorded: the build is no longer this agent's")
                    return
                }
                if let build {
                    let error: ProxError?
                    switch outcome {
                    case .success: error = nil
                    case .failure(let failure): error = failure
                    }
                    if error?.kind != .cancelled {
                        await RedisCompatibilityStore(client: client, schema: schema, logger: logger).record(CompatibilityFact.facts(of: build, error: error))
                    }
                }
                state.withLock { $0.completed += 1 }
                logger.info("build finished", metadata: ["state": "\(arguments[3])"])
                return
            } catch {
                if error.kind == .server && !error.message.contains("LOADING") {
                    logger.error("cannot record the result: \(error.message)")
                    return
                }
                await backoff.pause()
            }
        }
        logger.error("gave up recording the result: Redis unreachable; the job will be reclaimed and run again")
    }

    private func handBack(id: BuildID, entry: String, stream: String, logger: Logger) async {
        let now = RedisBuildService.milliseconds(Date())
        let reply = try? await client.eval(RedisScripts.handBack, [
            schema.prefix, id, options.name, stream, RedisSchema.group, entry, now, RedisSchema.milliseconds(options.lease) * 100,
        ])
        logger.notice("build handed back to the queue", metadata: ["outcome": "\(reply?.string ?? "redis unreachable: reclaimed when its lease runs out")"])
    }

    // MARK: - Lease

    private func heartbeats() async {
        let interval = options.lease / 3
        while !Task.isCancelled {
            let claims = state.withLock { $0.running.map { (id: $0.key, entry: $0.value.entry, stream: $0.value.stream) } }
            // One renewal per stream that has claims.
            var commands: [[any RedisArgument]] = []
            for stream in Set(claims.map(\.stream)).sorted() {
                var arguments: [any RedisArgument] = [schema.prefix, options.name, stream, RedisSchema.group, RedisSchema.milliseconds(schema.markerTTL)]
                for claim in claims where claim.stream == stream { arguments += [claim.id, claim.entry] }
                commands.append(["EVAL", RedisScripts.heartbeat.source, 0] + arguments)
            }
            let advertisement = AgentAdvertisement(
                name: options.name, slots: options.slots, running: claims.count, go: goVersion, toolchains: toolchains,
                download: downloads, downloadable: downloads ? await downloadable() : [], seen: RedisBuildService.milliseconds(Date())
            )
            let status = (try? RedisBuildService.json(advertisement)) ?? "{}"
            commands.append(["HSET", schema.agents, options.name, status])
            do throws(RedisError) {
                let replies = try await client.pipeline(commands)
                let lost = replies.dropLast().flatMap { $0.array?.compactMap { $0.string.flatMap(BuildID.init(rawValue:)) } ?? [] }
                let stopped = state.withLock { state -> [@Sendable () -> Void] in
                    lost.compactMap { id in
                        // A job whose start has not been recorded yet is not lost.
                        guard let cancel = state.running[id]?.cancel else { return nil }
                        state.running[id]?.stopReason = .lost
                        return cancel
                    }
                }
                if !stopped.isEmpty { logger.warning("lost the lease of \(stopped.count) build(s): stopping them") }
                stopped.forEach { $0() }
            } catch {
                logger.warning("heartbeat failed: \(error.message)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Waits up to the shutdown timeout for running builds, then cancels them (they are
    /// handed back).
    private func drain() async {
        let deadline = ContinuousClock.now + options.shutdownTimeout
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.running.isEmpty }) { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let cancels = state.withLock { state -> [@Sendable () -> Void] in
            for id in state.running.keys { state.running[id]?.stopReason = .shutdown }
            return state.running.values.compactMap(\.cancel)
        }
        if !cancels.isEmpty { logger.notice("shutdown timeout: handing back \(cancels.count) build(s)") }
        cancels.forEach { $0() }
        while !state.withLock({ $0.running.isEmpty }) { try? await Task.sleep(for: .milliseconds(50)) }
    }
}
