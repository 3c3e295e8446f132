import BuildCore
import CacheStore
import Foundation
import ProxTestSupport
import Testing

/// What the fake runner did, and what it should do next; shared with the test.
final class FakeRunnerState: @unchecked Sendable {
    private let lock = NSLock()
    private var _calls = 0
    private var _running = 0
    private var _maxRunning = 0
    private var _failure: ProxError?

    var calls: Int { lock.withLock { _calls } }
    var maxRunning: Int { lock.withLock { _maxRunning } }
    var failure: ProxError? {
        get { lock.withLock { _failure } }
        set { lock.withLock { _failure = newValue } }
    }

    func begin() {
        lock.withLock {
            _calls += 1
            _running += 1
            _maxRunning = max(_maxRunning, _running)
        }
    }

    func end() { lock.withLock { _running -= 1 } }
}

/// Blocks builds until opened.
actor Gate {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        open = true
        waiters.forEach { $0.resume() }
        waiters = []
    }
}

/// A BuildRunner that writes an ELF header followed by the build's canonical encoding.
struct FakeRunner: BuildRunner {
    let state: FakeRunnerState
    var delay: Duration = .zero
    var gate: Gate?

    /// The bytes a successful fake build of `build` writes.
    static func bytes(for build: ResolvedBuild) -> [UInt8] { elfHeader() + Array(build.canonicalEncoding.utf8) }

    func settings() async throws(ProxError) -> BuildSettings { BuildSettings(goVersion: "go1.23.5") }

    func build(_ build: ResolvedBuild, output: String, events: @escaping BuildEventSink) async throws(ProxError) {
        state.begin()
        defer { state.end() }
        for i in 1...3 { events(BuildEvent(step: .build, stream: .stdout, text: "compiling \(i)")) }
        if let gate { await gate.wait() }
        if delay > .zero {
            do { try await Task.sleep(for: delay) } catch { throw ProxError(.cancelled, "the fake build was cancelled") }
        }
        if let failure = state.failure {
            // Leave a partial file: the queue must clean it up.
            _ = FileManager.default.createFile(atPath: output, contents: Data([0x7F, 0x45]))
            events(BuildEvent(step: .build, stream: .stderr, text: "fake failure"))
            throw failure
        }
        guard FileManager.default.createFile(atPath: output, contents: Data(Self.bytes(for: build))) else {
            throw ProxError(.internal, "fake runner cannot write \(output)")
        }
        events(BuildEvent(step: .verify, stream: .info, text: "fake verify"))
    }
}

extension BuildCoordinator {
    /// ``BuildService/obtain(_:requestedID:client:)`` with the build's record as it is
    /// once the artifact is there (nil for a plain cache hit).
    func artifact(for build: ResolvedBuild, requestedID: BuildID? = nil) async throws(ProxError) -> (ArtifactRecord, BuildRecord?) {
        do {
            let obtained = try await obtain(build, requestedID: requestedID)
            return (obtained.artifact, obtained.build.flatMap { record($0.id) })
        } catch {
            throw error.error
        }
    }
}

/// A coordinator wired like the hub's, with the fake runner and a real cache in a temporary directory.
struct CoordinatorHarness {
    let root: String
    let state = FakeRunnerState()
    let cache: ArtifactCache
    let logs = MemoryLogBus()
    let coordinator: BuildCoordinator

    init(delay: Duration = .zero, gate: Gate? = nil, slots: Int = 2, historyLimit: Int = 500) async throws {
        root = Fixture.temporaryDirectory("prox-coordinator")
        cache = try await CacheFixture.open(root)
        let runner = FakeRunner(state: state, delay: delay, gate: gate)
        coordinator = BuildCoordinator(
            store: cache, queue: LocalJobQueue(runner: runner, store: cache, slots: slots), logs: logs, historyLimit: historyLimit
        )
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: root) }
}

@Suite("BuildCoordinator (fake runner, LocalJobQueue, real ArtifactCache)", .timeLimit(.minutes(2)))
struct BuildCoordinatorTests {
    @Test("20 concurrent requests for one build run it once and all get the same artifact")
    func singleFlight() async throws {
        let h = try await CoordinatorHarness(delay: .milliseconds(300))
        defer { h.cleanUp() }
        let build = try CacheFixture.build()
        let results = try await withThrowingTaskGroup(of: (ArtifactRecord, BuildRecord?).self) { group in
            for _ in 0..<20 { group.addTask { try await h.coordinator.artifact(for: build) } }
            var out: [(ArtifactRecord, BuildRecord?)] = []
            for try await result in group { out.append(result) }
            return out
        }
        #expect(results.count == 20)
        #expect(h.state.calls == 1)
        #expect(await h.coordinator.startedBuildCount == 1)
        let digests = Set(results.map(\.0.digest))
        #expect(digests.count == 1)
        #expect(Set(results.map(\.0.key)) == [build.cacheKey])
        let ids = Set(results.compactMap(\.1?.id))
        #expect(ids.count == 1)
        for (_, record) in results {
            guard let record else { continue }
            #expect(record.state == .succeeded)
            #expect(!record.cached)
            #expect(record.worker == "local")
            #expect(record.digest == results[0].0.digest)
        }
        let path = try #require(results.first?.0.path)
        #expect(CacheFixture.contents(path) == FakeRunner.bytes(for: build))
        #expect(CacheFixture.files(under: h.cache.stagingDirectory).isEmpty)
    }

    @Test("a request after the build completed is a cache hit and does not run the runner")
    func cacheHitAfterCompletion() async throws {
        let h = try await CoordinatorHarness()
        defer { h.cleanUp() }
        let build = try CacheFixture.build()
        let (first, record) = try await h.coordinator.artifact(for: build)
        #expect(record?.state == .succeeded)
        #expect(h.state.calls == 1)
        let (second, secondRecord) = try await h.coordinator.artifact(for: build)
        #expect(secondRecord == nil)
        #expect(second.digest == first.digest)
        #expect(second.hits >= 1)
        #expect(h.state.calls == 1)
        #expect(await h.coordinator.startedBuildCount == 1)

        // submit() on a hit records a cached build whose log says so.
        let cached = try await h.coordinator.submit(build)
        #expect(cached.cached)
        #expect(cached.state == .succeeded)
        #expect(cached.digest == first.digest)
        #expect(h.logs.events(of: cached.id)?.last?.text.contains("served from the cache") == true)
        #expect(try await h.coordinator.wait(for: cached.id).digest == first.digest)
        #expect(h.state.calls == 1)
    }

    @Test("different builds run separately")
    func differentBuilds() async throws {
        let h = try await CoordinatorHarness()
        defer { h.cleanUp() }
        let a = try CacheFixture.build(1), b = try CacheFixture.build(2)
        async let ra = h.coordinator.artifact(for: a)
        async let rb = h.coordinator.artifact(for: b)
        let (x, y) = try await (ra, rb)
        #expect(x.0.key == a.cacheKey && y.0.key == b.cacheKey)
        #expect(x.0.digest != y.0.digest)
        #expect(h.state.calls == 2)
    }

    @Test("a failing build: every waiter gets the error, the record is failed, nothing is cached, a retry rebuilds")
    func failure() async throws {
        let h = try await CoordinatorHarness(delay: .milliseconds(200))
        defer { h.cleanUp() }
        let failure = ProxError(.buildFailed, "go build failed: cannot use \"x\" (untyped string constant) as int value")
        h.state.failure = failure
        let build = try CacheFixture.build()
        let outcomes = await withTaskGroup(of: Result<ArtifactRecord, ProxError>.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    do throws(ProxError) { return .success(try await h.coordinator.artifact(for: build).0) } catch { return .failure(error) }
                }
            }
            var out: [Result<ArtifactRecord, ProxError>] = []
            for await outcome in group { out.append(outcome) }
            return out
        }
        #expect(outcomes.count == 5)
        for outcome in outcomes {
            guard case .failure(let error) = outcome else {
                Issue.record("a waiter got an artifact from a failed build")
                continue
            }
            #expect(error == failure)
        }
        #expect(h.state.calls == 1)
        let records = await h.coordinator.recent()
        #expect(records.count == 1)
        let record = try #require(records.first)
        #expect(record.state == .failed)
        #expect(record.error == failure)
        #expect(record.isFinished)
        #expect(record.finishedAt != nil)
        #expect(record.digest == nil)
        let log = try #require(h.logs.events(of: record.id))
        #expect(log.contains { $0.text == "fake failure" })
        #expect(log.last?.step == .done)
        #expect(log.last?.text.contains("build failed") == true)
        // The partial output was removed and nothing was cached.
        #expect(CacheFixture.files(under: h.cache.stagingDirectory).isEmpty)
        #expect(try await h.cache.lookup(build.cacheKey) == nil)
        let waitError = await #expect(throws: ProxError.self) { try await h.coordinator.wait(for: record.id) }
        #expect(waitError == failure)

        // The failure is not remembered: the next request builds again.
        h.state.failure = nil
        let (artifact, retry) = try await h.coordinator.artifact(for: build)
        #expect(h.state.calls == 2)
        #expect(retry?.state == .succeeded)
        #expect(retry?.id != record.id)
        #expect(CacheFixture.contents(artifact.path) == FakeRunner.bytes(for: build))
    }

    @Test("a requested id: reusable for the same build, refused for another, validated")
    func requestedID() async throws {
        let h = try await CoordinatorHarness()
        defer { h.cleanUp() }
        let a = try CacheFixture.build(1), b = try CacheFixture.build(2)
        let first = try await h.coordinator.submit(a, requestedID: "job-1")
        #expect(first.id == "job-1")
        let again = try await h.coordinator.submit(a, requestedID: "job-1")
        #expect(again.id == "job-1")
        let error = await #expect(throws: ProxError.self) { try await h.coordinator.submit(b, requestedID: "job-1") }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("job-1") == true)
        let viaArtifact = await #expect(throws: ProxError.self) { try await h.coordinator.artifact(for: b, requestedID: "job-1") }
        #expect(viaArtifact?.kind == .invalidRequest)
        _ = try await h.coordinator.wait(for: "job-1")
        #expect(h.state.calls == 1)

        for bad in ["", "has space", "semi;colon", "../x", "é", String(repeating: "a", count: 65)] {
            let error = #expect(throws: ProxError.self) { try BuildID(validating: bad) }
            #expect(error?.kind == .invalidRequest, "\(bad)")
            #expect(BuildID(rawValue: bad) == nil)
        }
        #expect(try await h.coordinator.submit(a, requestedID: BuildID(validating: String(repeating: "A", count: 64))).id.rawValue.count == 64)
        let random = BuildID.random()
        #expect(random.rawValue.count == 16 && random.rawValue.allSatisfy(\.isHexDigit) && random != BuildID.random())
    }

    @Test("a requested id for a build already in flight names that build")
    func aliasJoinsInFlight() async throws {
        let gate = Gate()
        let h = try await CoordinatorHarness(gate: gate)
        defer { h.cleanUp() }
        let build = try CacheFixture.build()
        let running = try await h.coordinator.submit(build)
        let joined = try await h.coordinator.submit(build, requestedID: "watcher_1")
        #expect(joined.id == running.id)
        #expect(await h.coordinator.record("watcher_1")?.id == running.id)
        await gate.release()
        let artifact = try await h.coordinator.wait(for: "watcher_1")
        #expect(artifact.key == build.cacheKey)
        #expect(h.state.calls == 1)
        #expect(await h.coordinator.record(running.id)?.state == .succeeded)
    }

    @Test("a subscriber joining mid-build gets every event from seq 1, then the live ones, then the end")
    func logReplay() async throws {
        let gate = Gate()
        let h = try await CoordinatorHarness(gate: gate)
        defer { h.cleanUp() }
        let build = try CacheFixture.build()
        let record = try await h.coordinator.submit(build, requestedID: "watched")
        // Wait until the runner is blocked mid-build, having logged its first lines.
        #expect(await eventually(timeout: .seconds(10)) { h.logs.events(of: "watched")?.contains { $0.text == "compiling 3" } == true }, "the runner to start")
        #expect(await h.coordinator.record("watched")?.isFinished == false)
        let before = try #require(h.logs.events(of: "watched")).count
        let stream = try #require(h.logs.subscribe(to: "watched", after: 0))
        async let received: [BuildEvent] = {
            var out: [BuildEvent] = []
            for await event in stream { out.append(event) }
            return out
        }()
        await gate.release()
        _ = try await h.coordinator.wait(for: record.id)
        let events = await received
        #expect(events.count > before)
        #expect(events.map(\.seq) == Array(1...events.count))
        #expect(events == h.logs.events(of: "watched"))
        #expect(events.first?.step == .queued)
        #expect(events.contains { $0.step == .resolve && $0.text.contains("github.com/proxfixture/hello") })
        #expect(events.map(\.text).filter { $0.hasPrefix("compiling") } == ["compiling 1", "compiling 2", "compiling 3"])
        #expect(events.contains { $0.text == "fake verify" })
        #expect(events.contains { $0.step == .commit })
        #expect(events.last?.step == .done)
        #expect(events.last?.text.contains("build succeeded") == true)
    }

    @Test("unknown build ids are notFound")
    func unknownID() async throws {
        let h = try await CoordinatorHarness()
        defer { h.cleanUp() }
        let error = await #expect(throws: ProxError.self) { try await h.coordinator.wait(for: "nope") }
        #expect(error?.kind == .notFound)
        #expect(await h.coordinator.record("nope") == nil)
    }

    @Test("shutdown cancels running builds and refuses new ones")
    func shutdown() async throws {
        let h = try await CoordinatorHarness(delay: .seconds(60))
        defer { h.cleanUp() }
        let build = try CacheFixture.build()
        let record = try await h.coordinator.submit(build)
        #expect(await eventually(timeout: .seconds(10)) { h.state.calls == 1 }, "the runner to start")
        let started = ContinuousClock.now
        await h.coordinator.shutdown()
        #expect(ContinuousClock.now - started < .seconds(10))
        let final = try #require(await h.coordinator.record(record.id))
        #expect(final.state == .cancelled)
        #expect(final.error?.kind == .cancelled)
        let waitError = await #expect(throws: ProxError.self) { try await h.coordinator.wait(for: record.id) }
        #expect(waitError?.kind == .cancelled)
        let refused = await #expect(throws: ProxError.self) { try await h.coordinator.submit(try CacheFixture.build(9)) }
        #expect(refused?.kind == .unavailable)
        #expect(CacheFixture.files(under: h.cache.stagingDirectory).isEmpty)
    }

    @Test("LocalJobQueue runs at most `slots` builds at once", arguments: [1, 2])
    func slots(slots: Int) async throws {
        // Builds wait at a gate: `slots` of the four start, the others wait for a slot
        // (however slowly the machine schedules them), and all finish once it opens.
        let gate = Gate()
        let h = try await CoordinatorHarness(gate: gate, slots: slots)
        defer { h.cleanUp() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<4 {
                group.addTask { _ = try await h.coordinator.artifact(for: try CacheFixture.build(n)) }
            }
            #expect(await eventually(timeout: .seconds(30)) { h.state.calls == slots }, "\(slots) builds start")
            try await Task.sleep(for: .milliseconds(300))
            #expect(h.state.calls == slots, "no more start while the slots are taken")
            await gate.release()
            try await group.waitForAll()
        }
        #expect(h.state.calls == 4)
        #expect(h.state.maxRunning == slots)
    }

    @Test("history is bounded by historyLimit, newest first")
    func history() async throws {
        let h = try await CoordinatorHarness(historyLimit: 2)
        defer { h.cleanUp() }
        var ids: [BuildID] = []
        for n in 0..<3 {
            _ = try await h.coordinator.artifact(for: try CacheFixture.build(n))
            ids.append(try #require(await h.coordinator.recent(limit: 1).first?.id))
        }
        #expect(await h.coordinator.recent().map(\.id) == [ids[2], ids[1]])
        #expect(await h.coordinator.record(ids[0]) == nil)
    }
}

