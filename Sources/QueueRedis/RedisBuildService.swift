import BuildCore
import Foundation
import Logging
import ServiceLifecycle

/// The hub's ``BuildService`` in hub mode: builds are queued on a Redis stream for
/// `proxagent`s, and everything about them (state, attempts, logs, the in-flight marker
/// of each cache key) lives in Redis, so any hub can answer for any build and two hubs
/// given the same request at once still run one build.
///
/// Artifacts arrive in this hub's ``ArtifactStore`` when an agent pushes them (see
/// `PUT /api/internal/builds/{id}/artifact`). A build pushed to another hub is fetched
/// from there on first use with ``ArtifactFetcher``, verified against the digest its
/// agent recorded.
///
/// As a `Service` it keeps the in-flight markers of queued builds alive
/// (``keepMarkersAlive()``) until graceful shutdown.
public actor RedisBuildService: BuildService, Service {
    /// Copies the artifact of a finished build from the hub that received it (`origin`)
    /// into this hub's store, checking `digest`; nil when that hub does not have it.
    public typealias ArtifactFetcher = @Sendable (_ origin: String, _ record: BuildRecord, _ digest: String) async throws(ProxError) -> ArtifactRecord?

    public nonisolated let client: RedisClient
    public nonisolated let schema: RedisSchema
    public nonisolated let store: any ArtifactStore
    public nonisolated let relay: RedisLogRelay
    private let fetch: ArtifactFetcher
    private let logger: Logger
    /// How long a waiting request rides out a Redis outage before it fails.
    private let outageGrace: Duration
    /// What a new build must fit in (see ``BuildService``).
    public nonisolated let limits: BuildLimits
    private var started = 0
    private var fetches: [CacheKey: Task<ArtifactRecord?, any Error>] = [:]
    private var accepting = true

    public init(
        client: RedisClient, schema: RedisSchema, store: any ArtifactStore, relay: RedisLogRelay, logger: Logger,
        outageGrace: Duration = .seconds(30), limits: BuildLimits = .unlimited, fetch: @escaping ArtifactFetcher
    ) {
        self.limits = limits
        self.client = client
        self.schema = schema
        self.store = store
        self.relay = relay
        self.logger = logger
        self.outageGrace = outageGrace
        self.fetch = fetch
    }

    public var startedBuildCount: Int { started }

    /// Builds queued and not yet taken by an agent, as the queue bound counts them
    /// (`--max-queued-builds`), across every hub.
    public nonisolated func queuedBuilds() async throws(ProxError) -> Int {
        do {
            return try await client.send(["SCARD", schema.queued]).int.map(Int.init) ?? 0
        } catch {
            throw ProxError(.unavailable, "cannot read the build queue: \(error.message)")
        }
    }

    public func submit(_ build: ResolvedBuild, requestedID: BuildID?, client requester: ClientID?) async throws(ProxError) -> BuildRecord {
        guard accepting else { throw ProxError(.unavailable, "the server is shutting down: retry on another instance") }
        let key = build.cacheKey
        let hit = try await store.lookup(key)
        let id = BuildID.random()
        let now = Date()
        // No client: the server's own work (cache warming), queued where agents take it
        // only when no user's build waits.
        let job = BuildJob(id: id, build: build, enqueuedAt: now, background: requester == nil)
        // The submit script writes the first line as the `queued` step, the others as `resolve`.
        let lines = job.queuedEvents.map(\.text)
        let arguments: [any RedisArgument] = [
            schema.prefix, key.hex, id, requestedID?.rawValue ?? "", try Self.json(build), Self.milliseconds(now),
            schema.jobs(for: job), RedisSchema.milliseconds(schema.markerTTL),
            hit?.digest ?? "", hit.map { String($0.size) } ?? "", try Self.json(job), schema.recentLimit,
            RedisSchema.seconds(schema.recordTTL), RedisSchema.seconds(schema.logTTL),
            limits.maxQueued, requester ?? "", limits.clientBuildRate.count, RedisSchema.milliseconds(limits.clientBuildRate.period),
            limits.clientConcurrent,
        ] + lines
        let reply = try await redisCall { () throws(RedisError) in try await client.eval(RedisScripts.submit, arguments) }
        guard let items = reply.array, items.count == 2, let outcome = items[0].string, let buildID = items[1].string else {
            throw ProxError(.internal, "unexpected reply from the submit script: \(reply)")
        }
        switch outcome {
        case "conflict" where requestedID != nil:
            throw .jobIDTaken(requestedID!)
        case "full":
            throw limits.queueFull(waiting: Int(buildID) ?? limits.maxQueued)
        case "rate":
            throw limits.overRate(requester ?? "", retryAfter: Int(buildID) ?? limits.retryAfter)
        case "concurrent":
            throw limits.overConcurrency(requester ?? "")
        case "created":
            started += 1
            logger.info("build queued", metadata: ["build": "\(buildID)", "key": "\(key.hex)"])
        default:
            break
        }
        guard let id = BuildID(rawValue: buildID), let record = try await record(id) else {
            throw ProxError(.internal, "build \(buildID) vanished from Redis right after it was submitted")
        }
        return record
    }

    public func cancel(_ id: BuildID) async throws(ProxError) -> BuildRecord? {
        guard let current = try await record(id) else { return nil }
        let error = ProxError(.cancelled, "build \(current.id) was cancelled by the server's administrator")
        let arguments: [any RedisArgument] = [
            schema.prefix, current.id, Self.milliseconds(Date()), try Self.json(error), "build cancelled: \(error.message)",
            RedisSchema.seconds(schema.logTTL), RedisSchema.seconds(schema.recordTTL),
        ]
        let client = self.client
        _ = try await redisCall { () throws(RedisError) in try await client.eval(RedisScripts.cancel, arguments) }
        return try await record(id)
    }

    /// A build whose record vanished while a client waited for it.
    public static func lost(_ id: BuildID) -> ProxError {
        ProxError(
            .unavailable,
            "build \(id) was lost: the build queue (Redis) lost its state while the build was queued or running (restarted without persistence?): request the build again",
            retryAfter: 5
        )
    }

    public func record(_ id: BuildID) async throws(ProxError) -> BuildRecord? {
        let client = self.client, schema = self.schema
        return try await redisCall { () throws(RedisError) in
            var replies = try await client.pipeline([["GET", schema.alias(id)], ["HGETALL", schema.build(id)]])
            if let canonical = replies[0].string {
                replies[1] = try await client.send(["HGETALL", schema.build(BuildID(rawValue: canonical) ?? id)])
            }
            let fields = replies[1].fields
            return fields.isEmpty ? nil : try Self.record(from: fields)
        }
    }

    public func building(_ key: CacheKey) async throws(ProxError) -> BuildRecord? {
        let client = self.client, schema = self.schema
        let id = try await redisCall { () throws(RedisError) in try await client.send(["GET", schema.inflight(key)]).string }
        guard let id, let buildID = BuildID(rawValue: id), let record = try await record(buildID), !record.isFinished else { return nil }
        return record
    }

    public func recent(limit: Int) async throws(ProxError) -> [BuildRecord] {
        let client = self.client, schema = self.schema
        return try await redisCall { () throws(RedisError) in
            let ids = try await client.send(["ZREVRANGE", schema.recent, 0, max(0, limit - 1)]).array?.compactMap { $0.string.flatMap(BuildID.init(rawValue:)) } ?? []
            guard !ids.isEmpty else { return [] }
            let replies = try await client.pipeline(ids.map { ["HGETALL", schema.build($0)] })
            return replies.compactMap { reply in
                let fields = reply.fields
                return fields.isEmpty ? nil : try? Self.record(from: fields)
            }
        }
    }

    /// Waits until the build ends (woken by its log's end, checked at least every 2 s),
    /// riding out Redis outages up to the grace period.
    public func wait(for id: BuildID) async throws(ProxError) -> ArtifactRecord {
        var outageSince: ContinuousClock.Instant?
        var quickReturns = 0
        var seen = false
        while true {
            if Task.isCancelled { throw ProxError(.cancelled, "stopped waiting for build \(id)") }
            let current: BuildRecord?
            do throws(ProxError) {
                current = try await record(id)
                outageSince = nil
            } catch {
                guard error.kind == .unavailable else { throw error }
                let since = outageSince ?? .now
                outageSince = since
                guard ContinuousClock.now - since < outageGrace else { throw error }
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            guard let record = current else {
                // Seen before and gone now: Redis lost it (restarted without persistence, or
                // flushed). The build is not known to be running anywhere any more.
                if seen { throw Self.lost(id) }
                throw ProxError(.notFound, "no build with id \(id)")
            }
            seen = true
            switch record.state {
            case .succeeded:
                return try await artifact(of: record)
            case .failed, .cancelled:
                throw record.error ?? ProxError(.buildFailed, "build \(id) \(record.state.rawValue)")
            case .queued, .running:
                guard accepting else { throw ProxError(.unavailable, "the hub is shutting down; build \(id) goes on: retry on another hub or later") }
                let began = ContinuousClock.now
                await relay.waitForEnd(of: record.id, upTo: .seconds(2))
                // A quick return is first taken as the end of a build that finished just now
                // (read the record again at once); twice in a row, as a relay that cannot
                // watch (stopping, Redis away): then poll gently.
                if ContinuousClock.now - began < .milliseconds(50) {
                    if quickReturns > 0 { try? await Task.sleep(for: .milliseconds(250)) }
                    quickReturns += 1
                } else {
                    quickReturns = 0
                }
            }
        }
    }

    public nonisolated func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.keepMarkersAlive()
        }
    }

    /// Renews the in-flight markers of queued and running builds every third of their
    /// expiry, until cancelled: a long queue never lets a second build of one key start,
    /// while markers of builds nobody serves any more run out.
    public nonisolated func keepMarkersAlive() async {
        let interval = schema.markerTTL / 3
        while !Task.isCancelled {
            do throws(RedisError) {
                _ = try await client.eval(RedisScripts.keepActive, [schema.prefix, RedisSchema.milliseconds(schema.markerTTL)])
            } catch {
                logger.debug("cannot renew build markers: \(error.message)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    public func shutdown() async {
        accepting = false
        fetches.values.forEach { $0.cancel() }
    }

    // MARK: - Artifacts

    /// The artifact of a succeeded build: from this hub's store, else from the hub it was
    /// pushed to (once per key, however many requests wait for it).
    private func artifact(of record: BuildRecord) async throws(ProxError) -> ArtifactRecord {
        if let hit = try await store.lookup(record.key) { return hit }
        let evicted = ProxError(.notFound, "the artifact of build \(record.id) is no longer cached: request it again to rebuild")
        guard let origin = record.origin, let digest = record.digest else { throw evicted }
        let task: Task<ArtifactRecord?, any Error>
        if let running = fetches[record.key] {
            task = running
        } else {
            let fetch = self.fetch
            task = Task { try await fetch(origin, record, digest) }
            fetches[record.key] = task
        }
        let result = await task.result
        fetches[record.key] = nil
        switch result {
        case .success(let artifact?): return artifact
        case .success(nil): throw evicted
        case .failure(let error as ProxError): throw error
        case .failure: throw ProxError(.cancelled, "stopped fetching the artifact of build \(record.id)")
        }
    }

    // MARK: - Encoding

    static func json(_ value: some Encodable) throws(ProxError) -> String {
        do {
            return String(decoding: try JSONEncoder.prox.encode(value), as: UTF8.self)
        } catch {
            throw ProxError(.internal, "cannot encode \(type(of: value)): \(error)")
        }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ text: String?) -> Date? { text.flatMap(Int64.init).map { Date(timeIntervalSince1970: Double($0) / 1000) } }

    /// A build's hash as a ``BuildRecord``.
    static func record(from fields: [String: String]) throws(RedisError) -> BuildRecord {
        guard let id = fields["id"].flatMap(BuildID.init(rawValue:)), let keyText = fields["key"], let key = CacheKey(hex: keyText),
            let buildJSON = fields["build"], let build = try? JSONDecoder.prox.decode(ResolvedBuild.self, from: Data(buildJSON.utf8)),
            let state = BuildRecord.State(rawValue: fields["state"] ?? ""), let created = date(fields["created"])
        else {
            throw RedisError(.server, "a build record in Redis is incomplete or from an incompatible version: \(fields["id"] ?? "?")")
        }
        var record = BuildRecord(id: id, key: key, build: build, state: state, cached: fields["cached"] == "1", createdAt: created)
        record.worker = fields["worker"].flatMap { $0.isEmpty ? nil : $0 }
        record.startedAt = date(fields["started"])
        record.finishedAt = date(fields["finished"])
        record.error = fields["error"].flatMap { try? JSONDecoder.prox.decode(ProxError.self, from: Data($0.utf8)) }
        record.digest = fields["digest"]
        record.size = fields["size"].flatMap(Int64.init)
        record.origin = fields["origin"]
        record.attempts = fields["attempts"].flatMap(Int.init)
        return record
    }
}
