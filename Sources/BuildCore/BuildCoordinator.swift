import Foundation
import Synchronization

/// Single-flight build coordination: one build per cache key at a time, shared by every
/// request that needs it.
///
/// A request first looks in the ``ArtifactStore``; on a miss it joins the build already
/// running for the same key or submits a new ``BuildJob`` to the ``JobQueue``. Builds run
/// detached from the requests that caused them: a client that goes away does not cancel
/// a build others may be waiting for. ``shutdown()`` cancels them all.
public actor BuildCoordinator: BuildService {
    public nonisolated let store: any ArtifactStore
    public let queue: any JobQueue
    public let logs: any LogBus
    public let historyLimit: Int
    public let limits: BuildLimits
    /// Signs each new artifact's provenance before its build is reported done.
    public let attestor: (any Attestor)?
    /// Learns, from each finished build, which plugin versions build with which Caddy.
    public let compatibility: (any CompatibilityStore)?
    private var ledger = ClientLedger()

    private var records: [BuildID: BuildRecord] = [:]
    private var order: [BuildID] = []
    private var aliases: [BuildID: BuildID] = [:]
    private var inFlight: [CacheKey: BuildID] = [:]
    private var tasks: [BuildID: Task<ArtifactRecord, any Error>] = [:]
    private var accepting = true
    private var buildsStarted = 0

    public init(
        store: any ArtifactStore, queue: any JobQueue, logs: any LogBus, historyLimit: Int = 500, limits: BuildLimits = .unlimited,
        attestor: (any Attestor)? = nil, compatibility: (any CompatibilityStore)? = nil
    ) {
        self.compatibility = compatibility
        self.limits = limits
        self.attestor = attestor
        self.store = store
        self.queue = queue
        self.logs = logs
        self.historyLimit = historyLimit
    }

    /// Number of builds this coordinator has started (cache hits and joins excluded).
    public var startedBuildCount: Int { buildsStarted }

    /// Starts (or joins) the build for `build` and returns at once. `requestedID` lets a
    /// client choose the id it will watch (prox-builder's `job_id`); it must be unused or
    /// already name a build with the same key. A new build must fit in ``limits``.
    public func submit(_ build: ResolvedBuild, requestedID: BuildID?, client: ClientID?) async throws(ProxError) -> BuildRecord {
        let key = build.cacheKey
        if let requestedID, let existing = record(requestedID) {
            guard existing.key == key else { throw .jobIDTaken(requestedID) }
            return existing
        }
        guard accepting else { throw ProxError(.unavailable, "the server is shutting down: retry on another instance") }
        if let joined = join(key, as: requestedID) { return joined }
        let hit = try await store.lookup(key)
        if let joined = join(key, as: requestedID) { return joined }  // started while we looked
        if let requestedID, let existing = record(requestedID) {  // chosen by a concurrent request
            guard existing.key == key else { throw .jobIDTaken(requestedID) }
            return existing
        }
        let id = requestedID ?? BuildID.random()
        let now = Date()
        if hit == nil {
            if limits.maxQueued > 0 {
                let waiting = inFlight.values.count { records[$0]?.state == .queued }
                if waiting >= limits.maxQueued { throw limits.queueFull(waiting: waiting) }
            }
            if let client {
                try ledger.admit(client, limits: limits)
                ledger.started(client, build: id, limits: limits)
            }
        }
        logs.open(id, start: now)
        if let hit {
            // Answered from the cache; recorded so the id works like any other build's.
            var record = BuildRecord(id: id, key: key, build: build, state: .succeeded, cached: true, createdAt: now, startedAt: now, finishedAt: now)
            record.digest = hit.digest
            record.size = hit.size
            remember(record)
            logs.append(BuildEvent(step: .done, stream: .info, text: "served from the cache: sha256 \(hit.digest), \(hit.size) bytes"), to: id)
            logs.finish(id)
            return record
        }
        let record = BuildRecord(id: id, key: key, build: build, state: .queued, cached: false, createdAt: now)
        remember(record)
        inFlight[key] = id
        buildsStarted += 1
        // A build no client asked for (cache warming) waits behind every user's build.
        let job = BuildJob(id: id, build: build, enqueuedAt: now, background: client == nil)
        for event in job.queuedEvents { logs.append(event, to: id) }
        let queue = self.queue
        let logs = self.logs
        let compatibility = self.compatibility
        // Who started it, known here at once: `markStarted` runs later, and a quick build may
        // complete first.
        let startedBy = Mutex<(worker: String, at: Date)?>(nil)
        tasks[id] = Task {
            do {
                let artifact = try await queue.run(
                    job, events: { logs.append($0, to: id) },
                    started: { worker in
                        startedBy.withLock { $0 = (worker, Date()) }
                        Task { await self.markStarted(id, worker: worker) }
                    }
                )
                self.noteStart(id, startedBy.withLock { $0 })
                await self.attest(artifact, build: id)
                await compatibility?.record(CompatibilityFact.facts(of: build, error: nil))
                self.complete(id, with: .success(artifact))
                return artifact
            } catch {
                self.noteStart(id, startedBy.withLock { $0 })
                if let failure = error as? ProxError, failure.kind != .cancelled {
                    await compatibility?.record(CompatibilityFact.facts(of: build, error: failure))
                }
                self.complete(id, with: .failure(error))
                throw error
            }
        }
        return record
    }

    /// Waits for build `id` and returns its artifact.
    public func wait(for id: BuildID) async throws(ProxError) -> ArtifactRecord {
        guard let record = record(id) else { throw ProxError(.notFound, "no build with id \(id)") }
        if let task = tasks[record.id] {
            do {
                return try await task.value
            } catch let error as ProxError {
                throw error
            } catch {
                throw ProxError(.cancelled, "build \(id) was cancelled")
            }
        }
        if let error = record.error { throw error }
        guard record.state == .succeeded else { throw ProxError(.cancelled, "build \(id) did not finish") }
        guard let artifact = try await store.lookup(record.key) else {
            throw ProxError(.notFound, "the artifact of build \(id) has since been evicted from the cache: request it again to rebuild")
        }
        return artifact
    }

    public func record(_ id: BuildID) -> BuildRecord? {
        records[aliases[id] ?? id]
    }

    /// The most recent builds, newest first.
    public func recent(limit: Int = 50) -> [BuildRecord] {
        order.suffix(limit).reversed().compactMap { records[$0] }
    }

    public func building(_ key: CacheKey) -> BuildRecord? {
        inFlight[key].flatMap { records[$0] }
    }

    public func cancel(_ id: BuildID) async -> BuildRecord? {
        guard let current = record(id) else { return nil }
        if let task = tasks[current.id] {
            task.cancel()
            _ = try? await task.value
        }
        return record(id)
    }

    /// Stops accepting builds and cancels those running; returns when they have ended.
    public func shutdown() async {
        accepting = false
        let running = Array(tasks.values)
        running.forEach { $0.cancel() }
        for task in running { _ = try? await task.value }
    }

    // MARK: -

    /// The build in flight for `key`, with `alias` made to name it too.
    private func join(_ key: CacheKey, as alias: BuildID?) -> BuildRecord? {
        guard let running = inFlight[key], let record = records[running] else { return nil }
        if let alias, alias != running { aliases[alias] = running }
        return record
    }

    /// Records who started the build and when, if `markStarted` has not yet.
    private func noteStart(_ id: BuildID, _ start: (worker: String, at: Date)?) {
        guard let start, var record = records[id], record.worker == nil else { return }
        record.worker = start.worker
        record.startedAt = record.startedAt ?? start.at
        records[id] = record
    }

    private func markStarted(_ id: BuildID, worker: String) {
        guard var record = records[id], record.state == .queued else { return }
        record.state = .running
        record.worker = worker
        record.startedAt = Date()
        records[id] = record
    }

    /// Signs the new artifact's provenance. A failure is logged with the build and does not
    /// fail it: the binary is good, and its provenance is made again when first asked for.
    private func attest(_ artifact: ArtifactRecord, build id: BuildID) async {
        guard let attestor else { return }
        let run = ProvenanceStatement.Run(buildID: id, builder: .thisHub, startedOn: records[id]?.startedAt, finishedOn: Date())
        do {
            let signed = try await attestor.attest(artifact, run: run)
            logs.append(BuildEvent(step: .commit, stream: .info, text: "provenance signed with key \(signed.keyID)"), to: id)
        } catch {
            logs.append(BuildEvent(step: .commit, stream: .stderr, text: "the provenance could not be signed: \(error.message)"), to: id)
        }
    }

    private func complete(_ id: BuildID, with result: Result<ArtifactRecord, any Error>) {
        tasks[id] = nil
        ledger.finished(id)
        guard var record = records[id] else { return }
        if inFlight[record.key] == id { inFlight[record.key] = nil }
        let now = Date()
        record.finishedAt = now
        if record.startedAt == nil { record.startedAt = now }
        let seconds = String(format: "%.1f", now.timeIntervalSince(record.createdAt))
        switch result {
        case .success(let artifact):
            record.state = .succeeded
            record.digest = artifact.digest
            record.size = artifact.size
            logs.append(BuildEvent(step: .done, stream: .info, text: "build succeeded in \(seconds) s: sha256 \(artifact.digest), \(artifact.size) bytes"), to: id)
        case .failure(let error):
            let proxError = (error as? ProxError) ?? ProxError(.cancelled, "build \(id) was cancelled")
            record.state = proxError.kind == .cancelled ? .cancelled : .failed
            record.error = proxError
            logs.append(BuildEvent(step: .done, stream: .info, text: "build \(record.state.rawValue) after \(seconds) s: \(proxError.message)"), to: id)
        }
        records[id] = record
        if !order.contains(id) { records[id] = nil }  // fell out of the history while it ran
        logs.finish(id)
    }

    private func remember(_ record: BuildRecord) {
        records[record.id] = record
        order.append(record.id)
        while order.count > historyLimit {
            let old = order.removeFirst()
            if tasks[old] == nil { records[old] = nil }
            aliases = aliases.filter { $0.value != old }
        }
    }
}
