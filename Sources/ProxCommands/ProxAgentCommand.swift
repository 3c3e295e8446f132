import ArgumentParser
import Foundation
import Logging

/// `proxagent`: takes build jobs from Redis, builds them with Go and pushes the binaries
/// to the hub. Flags each have a `PB_*` environment variable, which wins.
public struct ProxAgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "proxagent",
        abstract: "Prox build agent: runs Caddy builds queued by proxhub --hub and pushes the binaries to the hub.",
        discussion: "Every option can also be set with its PB_* environment variable, which takes precedence over the flag."
    )

    @Option(name: .customLong("hub-url"), help: "The hub's URL, where artifacts are pushed (PB_HUB_URL). Required.")
    var hubURL: String?
    @Option(name: .customLong("push-token"), help: "The hub's --push-token (PB_PUSH_TOKEN). Required.")
    var pushToken: String?
    @Option(name: .customLong("redis-host"), help: "Redis host (PB_REDIS_HOST). Default: localhost")
    var redisHost: String?
    @Option(name: .customLong("redis-port"), help: "Redis port (PB_REDIS_PORT). Default: 6379")
    var redisPort: String?
    @Option(name: .customLong("redis-username"), help: "Redis ACL user (PB_REDIS_USERNAME).")
    var redisUsername: String?
    @Option(name: .customLong("redis-password"), help: "Redis password (PB_REDIS_PASSWORD).")
    var redisPassword: String?
    @Option(name: .customLong("simultaneous-jobs"), help: "Builds run at once (PB_SIMULTANEOUS_JOBS). Default: 2")
    var simultaneousJobs: String?
    @Option(name: .customLong("go"), help: "A local go command; repeat for several, the first is the default (PB_GO, comma-separated). Default: go on PATH")
    var go: [String] = []
    @Option(name: .customLong("toolchain-download"), help: "Download the Go toolchain a job needs through GOPROXY: true or false (PB_TOOLCHAIN_DOWNLOAD). Default: true")
    var toolchainDownload: String?
    @Option(name: .customLong("goproxy"), help: "GOPROXY list for builds (PB_GOPROXY). Default: $GOPROXY, else https://proxy.golang.org,direct")
    var goproxy: String?
    @Option(name: .customLong("work-dir"), help: "Go module and build caches, build directories (PB_WORK_DIR). Default: ./agent-data")
    var workDir: String?
    @Option(name: .customLong("build-timeout"), help: "Time limit per build (PB_BUILD_TIMEOUT). Default: 600s")
    var buildTimeout: String?
    @Option(name: .customLong("max-attempts"), help: "Starts of a build whose agents stop responding before it fails (PB_MAX_ATTEMPTS). Default: 3")
    var maxAttempts: String?
    @Option(name: .customLong("job-lease"), help: "A job whose agent has not renewed it for this long is taken over (PB_JOB_LEASE). Default: 30s")
    var jobLease: String?
    @Option(name: .customLong("shutdown-timeout"), help: "On SIGTERM, time running builds get before they are handed back (PB_SHUTDOWN_TIMEOUT). Default: 60s")
    var shutdownTimeout: String?
    @Option(name: .customLong("agent-name"), help: "This agent's name in build records (PB_AGENT_NAME). Default: <host>-<pid>")
    var agentName: String?
    @OptionGroup var resources: BuildResourceOptions
    @Option(name: .customLong("hub-ca"), help: "A CA certificate (PEM) to trust for an https --hub-url, beside the system's roots (PB_HUB_CA).")
    var hubCA: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (PB_LOG_LEVEL). Default: info")
    var logLevel: String?

    public init() {}

    var flags: [String: String] {
        let options: [(String, String?)] = [
            ("--hub-url", hubURL), ("--push-token", pushToken), ("--redis-host", redisHost), ("--redis-port", redisPort),
            ("--redis-username", redisUsername), ("--redis-password", redisPassword), ("--simultaneous-jobs", simultaneousJobs),
            ("--go", go.isEmpty ? nil : go.joined(separator: ",")), ("--toolchain-download", toolchainDownload), ("--goproxy", goproxy), ("--work-dir", workDir), ("--build-timeout", buildTimeout),
            ("--max-attempts", maxAttempts), ("--job-lease", jobLease), ("--shutdown-timeout", shutdownTimeout),
            ("--agent-name", agentName), ("--hub-ca", hubCA), ("--log-level", logLevel),
        ] + resources.flags
        var flags: [String: String] = [:]
        for case let (name, value?) in options { flags[name] = value }
        return flags
    }

    public func run() async throws {
        let configuration = try CommandStart.configuration { () throws(ConfigurationError) in
            try AgentConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        }
        let logger = CommandStart.logger("proxagent", level: configuration.logLevel)
        CommandStart.raiseOpenFileLimit(logger: logger)
        let agent = try await CommandStart.make(logger) { try await Agent.make(configuration: configuration, logger: logger) }
        try await agent.run()
    }
}
