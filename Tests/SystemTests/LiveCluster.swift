import BuildCore
import Foundation
import Logging
import ProxCommands
import ProxTestSupport
import QueueRedis
import ServiceLifecycle

/// Hub-mode pieces for tests: hubs and agents in this process (``LiveHub``, ``LiveAgent``)
/// or as real `proxhub`/`proxagent` processes (``ServerProcess``), all on loopback.
enum Cluster {
    static let token = "test-push-token-\(UUID().uuidString.prefix(8))"

    /// A hub-mode ``LiveHub`` on `redis`.
    static func hub(redis: RedisServer, port: Int = 0, dataDirectory: String? = nil, _ configure: (inout HubConfiguration) -> Void = { _ in })
        async throws -> LiveHub
    {
        try await LiveHub.start(dataDirectory: dataDirectory) { c in
            c.hub = true
            c.port = port
            c.redis.host = "127.0.0.1"
            c.redis.port = redis.port
            c.pushToken = token
            configure(&c)
        }
    }

    static func agentConfiguration(redis: RedisServer, hub: some HubClient, name: String, slots: Int = 2) throws -> AgentConfiguration {
        var c = AgentConfiguration()
        c.redis.host = "127.0.0.1"
        c.redis.port = redis.port
        c.hubURL = hub.url("")
        c.pushToken = token
        c.simultaneousJobs = slots
        c.goExecutable = Fixture.goExecutable
        c.goproxy = try Fixture.paths().goproxy
        c.workDirectory = Fixture.temporaryDirectory("prox-agent-\(name)")
        c.name = name
        c.jobLease = .seconds(3)
        c.shutdownTimeout = .seconds(20)
        return c
    }

    /// The `proxhub --hub` command line for `redis`, on a fixed port.
    static func hubArguments(redis: RedisServer, port: Int, dataDirectory: String) throws -> [String] {
        let fixture = try Fixture.paths()
        return [
            "--hub", "--webserver-host", "127.0.0.1", "--webserver-port", String(port), "--binary-path", dataDirectory,
            "--redis-host", "127.0.0.1", "--redis-port", String(redis.port), "--push-token", token,
            "--goproxy", fixture.goproxy, "--package-endpoint", fixture.packageEndpoint, "--go", Fixture.goExecutable,
            "--log-level", "warning", "--client-build-rate", "0", "--client-concurrent-builds", "0", "--client-request-rate", "0",
        ]
    }

    /// The `proxagent` command line for a configuration.
    static func agentArguments(_ c: AgentConfiguration) -> [String] {
        [
            "--redis-host", c.redis.host, "--redis-port", String(c.redis.port), "--hub-url", c.hubURL, "--push-token", c.pushToken,
            "--simultaneous-jobs", String(c.simultaneousJobs), "--go", c.goExecutable, "--goproxy", c.goproxy, "--work-dir", c.workDirectory,
            "--agent-name", c.name, "--job-lease", "\(c.jobLease.components.seconds)s", "--log-level", "warning",
        ]
    }
}

/// A `proxagent`-equivalent ``Agent`` running in this test process.
struct LiveAgent {
    let agent: Agent
    /// The port of `/metrics` (with `--metrics-port`).
    let metricsPort: Int?
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(_ configuration: AgentConfiguration, sharedGoCache: Bool = true) async throws -> LiveAgent {
        var logger = Logger(label: "test.proxagent.\(configuration.name)")
        logger.logLevel = .warning
        let agent = try await Agent.make(configuration: configuration, logger: logger, goCacheRoot: sharedGoCache ? Fixture.goCacheRoot : nil)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = agent.serviceGroup(onMetricsServerRunning: { continuation.yield($0) })
        let task = Task { try await group.run() }
        var metricsPort: Int?
        if configuration.metricsPort != nil {
            var iterator = ports.makeAsyncIterator()
            metricsPort = await iterator.next()
        }
        return LiveAgent(agent: agent, metricsPort: metricsPort, group: group, task: task)
    }

    var name: String { agent.configuration.name }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// A real `proxhub` or `proxagent` process from this build, killed by the test.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let output: String

    /// `environment`: variables to set over this process's own, or to remove (nil).
    init(_ executable: String, _ arguments: [String], environment changes: [String: String?] = [:]) throws {
        let path = Fixture.repositoryRoot + "/.build/debug/" + executable
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw FixtureError(message: "\(path) is missing: run `swift build` first")
        }
        output = Fixture.temporaryDirectory("prox-\(executable)-log") + "/output.txt"
        FileManager.default.createFile(atPath: output, contents: nil)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GOSUMDB"] = "off"
        for (name, value) in changes { environment[name] = value }
        process.environment = environment
        let handle = FileHandle(forWritingAtPath: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// SIGKILL: no cleanup of any kind, as in a crash.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    var log: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

    deinit { kill() }
}
