// prox-bench: the drivers of benchmarks 5 (index scale) and 6 (queue dispatch). Run by
// bench/index-scale.sh and bench/queue.sh; see bench/README.md.

import BuildCore
import CacheStore
import Foundation
import GRDB
import Logging
import QueueRedis
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

func argument(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: "--" + name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
    return v
}

func temporaryDirectory(_ prefix: String) -> String {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    let path = base + "/\(prefix)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}

func median(_ values: [Double]) -> Double { percentile(values.sorted(), 50) }

func syntheticBuild(_ i: Int, goVersion: String) -> ResolvedBuild {
    ResolvedBuild(
        platform: try! Platform(os: "linux", arch: "amd64"), caddyVersion: SemanticVersion("v2.8.4")!,
        plugins: [ResolvedModule(path: "github.com/proxbench/p\(i)", module: "github.com/proxbench/p\(i)", version: SemanticVersion("v1.0.0")!)],
        settings: BuildSettings(goVersion: goVersion)
    )
}

nonisolated var quietLogger: Logger {
    var logger = Logger(label: "prox-bench")
    logger.logLevel = .error
    return logger
}

// MARK: - Benchmark 5: index scale

/// Writes `rows` synthetic rows into a new cache index, spread over `digests` artifact
/// files of `fileSize` bytes (rows of one digest have adjacent last-access times, so an
/// LRU prune of 10 % of the rows frees 10 % of the files), then measures what proxhub does
/// with such an index: opening it (start-up, including the repair scan), hit lookups, and
/// a prune of 10 % (a restart with the quota lowered just below the total), then hit
/// lookups among the rows kept.
func indexScale() async throws {
    let rows = argument("rows", 100_000)
    let digests = min(argument("digests", 1000), rows)
    let lookups = argument("lookups", 10_000)
    let fileSize = argument("file-size", 1000)
    let root = temporaryDirectory("prox-index") + "/cache"
    defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
    let clock = ContinuousClock()

    // The schema, as proxhub creates it.
    _ = try await ArtifactCache(configuration: .init(root: root), logger: quietLogger)
    var digestList: [String] = []
    let content = [UInt8](repeating: 0x5a, count: fileSize)
    for d in 0..<digests {
        let digest = CacheKey(encoding: "bench-digest-\(d)").hex
        let dir = root + "/artifacts/" + digest.prefix(2)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/" + digest, contents: Data(content))
        digestList.append(digest)
    }
    let digestNames = digestList
    let buildJSON = String(decoding: try JSONEncoder.sortedKeys.encode(syntheticBuild(0, goVersion: "go1.23.5")), as: UTF8.self)
    let fill = clock.now
    do {
        let pool = try DatabasePool(path: root + "/index.sqlite")
        try await pool.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO artifact (key, digest, size, target, caddy_version, go_version, build, created_at, last_access, hits, pinned)
                    VALUES (?, ?, ?, 'linux/amd64', 'v2.8.4', 'go1.23.5', ?, ?, ?, 0, 0)
                    """
            )
            let base = 1_700_000_000.0
            for i in 0..<rows {
                let key = CacheKey(encoding: "bench-row-\(i)").hex
                let digest = digestNames[i * digests / rows]
                try statement.execute(arguments: [key, digest, fileSize, buildJSON, base + Double(i), base + Double(i)])
            }
        }
        try pool.close()
    }
    let fillTime = seconds(clock.now - fill)

    var startTimes: [Double] = []
    for _ in 0..<3 {
        let t = clock.now
        let cache = try await ArtifactCache(configuration: .init(root: root), logger: quietLogger)
        startTimes.append(seconds(clock.now - t))
        _ = await cache.totalSize
    }

    // Prune first: hits would move rows of the oldest files to the front of the LRU order.
    let total = Int64(digests * fileSize)
    let t = clock.now
    let pruned = try await ArtifactCache(configuration: .init(root: root, maxSize: total - 1), logger: quietLogger)
    let startWithPrune = seconds(clock.now - t)
    let evicted = await pruned.evictionCount
    var latencies: [Double] = []
    do {
        let cache = try await ArtifactCache(configuration: .init(root: root), logger: quietLogger)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<lookups {
            // Rows the prune kept: the newest 80 %.
            let key = CacheKey(encoding: "bench-row-\(Int.random(in: (rows / 5)..<rows, using: &generator))")
            let t = clock.now
            let hit = try await cache.lookup(key)
            latencies.append(seconds(clock.now - t) * 1000)
            guard hit != nil else { fatalError("a synthetic row was not found") }
        }
    }
    latencies.sort()

    let start = median(startTimes)
    print(
        "RESULT rows=\(rows) digests=\(digests) fill_s=\(String(format: "%.2f", fillTime)) start_s=\(String(format: "%.3f", start))"
            + " lookup_p50_ms=\(String(format: "%.3f", percentile(latencies, 50))) lookup_p99_ms=\(String(format: "%.3f", percentile(latencies, 99)))"
            + " prune_s=\(String(format: "%.3f", max(0, startWithPrune - start))) start_with_prune_s=\(String(format: "%.3f", startWithPrune))"
            + " pruned_rows=\(evicted) lookups=\(lookups)"
    )
}

extension JSONEncoder {
    static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

// MARK: - Benchmark 6: queue dispatch

/// When each job's build started on an agent, by cache key.
final class StartTimes: Sendable {
    private let times = Mutex<[CacheKey: ContinuousClock.Instant]>([:])
    func record(_ key: CacheKey) { times.withLock { $0[key] = ContinuousClock.now } }
    func time(of key: CacheKey) -> ContinuousClock.Instant? { times.withLock { $0[key] } }
}

/// Bench-only runner: no go command; writes a tiny file and returns.
struct NoopRunner: BuildRunner {
    let goVersion: String
    let starts: StartTimes
    func settings() async throws(ProxError) -> BuildSettings { BuildSettings(goVersion: goVersion) }
    func build(_ build: ResolvedBuild, output: String, events: @escaping BuildEventSink) async throws(ProxError) {
        starts.record(build.cacheKey)
        guard FileManager.default.createFile(atPath: output, contents: Data("prox-bench no-op artifact\n".utf8)) else {
            throw ProxError(.internal, "cannot write \(output)")
        }
    }
}

/// Bench-only delivery: commits the file into the hub's store in this process, as the
/// hub's push endpoint would after receiving it (no HTTP transfer).
struct DirectDelivery: ArtifactDelivery {
    let store: ArtifactCache
    func deliver(_ job: BuildJob, file: String, digest: String, size: Int64) async throws(ProxError) -> String {
        let staged = store.stagingDirectory + "/\(job.id)"
        do {
            try FileManager.default.copyItem(atPath: file, toPath: staged)
        } catch {
            throw ProxError(.internal, "cannot stage \(file): \(error)")
        }
        _ = try await store.commit(key: job.key, build: job.build, file: staged, expectedDigest: digest)
        return "http://127.0.0.1:1"
    }
}

func queueDispatch() async throws {
    let port = argument("redis-port", 6379)
    let jobs = argument("jobs", 1000)
    let agentCount = argument("agents", 2)
    let slots = argument("slots", 4)
    let goVersion = "go-bench"
    let dir = temporaryDirectory("prox-queue")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let logger = quietLogger
    let redis = RedisConfiguration(host: "127.0.0.1", port: port)
    let store = try await ArtifactCache(configuration: .init(root: dir + "/hub"), logger: logger)
    let client = RedisClient(configuration: redis, connections: 4, name: "hub", logger: logger)
    try await client.connect()
    let schema = RedisSchema()
    let relay = RedisLogRelay(client: client, schema: schema, logger: logger)
    let service = RedisBuildService(client: client, schema: schema, store: store, relay: relay, logger: logger, fetch: { _, _, _ in nil })
    let starts = StartTimes()
    var agents: [RedisAgent] = []
    for i in 0..<agentCount {
        let work = dir + "/agent\(i)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let agent = RedisAgent(
            options: .init(name: "bench-\(i)", slots: slots), goVersion: goVersion, runner: NoopRunner(goVersion: goVersion, starts: starts),
            delivery: DirectDelivery(store: store), redis: redis, workDirectory: work, logger: logger
        )
        try await agent.connect()
        agents.append(agent)
    }
    let group = ServiceGroup(configuration: .init(services: [relay] + agents.map { $0 as any Service }, logger: logger))
    let running = Task { try await group.run() }

    // Throughput: a burst of `jobs` submitted at once; jobs/s until the last is done.
    let clock = ContinuousClock()
    let began = clock.now
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        for i in 0..<jobs {
            tasks.addTask {
                let record = try await service.submit(syntheticBuild(i, goVersion: goVersion), requestedID: nil)
                _ = try await service.wait(for: record.id)
            }
        }
        try await tasks.waitForAll()
    }
    let elapsed = seconds(clock.now - began)

    // Latency: one job at a time on idle agents, from submit() to the runner's start, and
    // to wait() returning the committed artifact.
    var dispatch: [Double] = []
    var endToEnd: [Double] = []
    for i in 0..<argument("latency-jobs", 200) {
        let build = syntheticBuild(jobs + i, goVersion: goVersion)
        let submitted = clock.now
        let record = try await service.submit(build, requestedID: nil)
        _ = try await service.wait(for: record.id)
        let done = clock.now
        guard let started = starts.time(of: build.cacheKey) else { fatalError("a job finished without its build starting") }
        dispatch.append(seconds(started - submitted) * 1000)
        endToEnd.append(seconds(done - submitted) * 1000)
    }
    dispatch.sort()
    endToEnd.sort()
    let started = await service.startedBuildCount
    print(
        "RESULT jobs=\(jobs) agents=\(agentCount) slots=\(slots) builds=\(started) seconds=\(String(format: "%.2f", elapsed))"
            + " jobs_per_s=\(String(format: "%.1f", Double(jobs) / elapsed)) latency_jobs=\(dispatch.count)"
            + " dispatch_p50_ms=\(String(format: "%.2f", percentile(dispatch, 50))) dispatch_p99_ms=\(String(format: "%.2f", percentile(dispatch, 99)))"
            + " done_p50_ms=\(String(format: "%.2f", percentile(endToEnd, 50))) done_p99_ms=\(String(format: "%.2f", percentile(endToEnd, 99)))"
    )
    await group.triggerGracefulShutdown()
    _ = try? await running.value
}

switch CommandLine.arguments.dropFirst().first {
case "index-scale":
    try await indexScale()
case "queue":
    try await queueDispatch()
default:
    FileHandle.standardError.write(Data("usage: prox-bench index-scale [--rows N --digests N --lookups N] | queue --redis-port P [--jobs N --agents N --slots N]\n".utf8))
    exit(64)
}
