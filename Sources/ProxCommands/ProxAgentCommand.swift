import ArgumentParser
import Foundation
import Logging

/// `proxagent`: takes build jobs from Redis, builds them with Go and pushes the binaries
/// to the hub. Its flags, their `PB_*` variables (which win) and its `--help` all come
/// from ``AgentConfiguration/table``.
public struct ProxAgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "proxagent", abstract: AgentConfiguration.table.abstract, usage: "proxagent [--flag value | --flag=value] ... (proxagent --help lists them)",
        helpNames: [])

    /// Everything on the command line, read by ``AgentConfiguration/table``.
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    public init() {}

    public func run() async throws {
        let flags = try CommandStart.configuration { () throws(ConfigurationError) in try AgentConfiguration.table.parse(arguments) }
        guard let flags else {
            print(AgentConfiguration.table.help)
            return
        }
        let configuration = try CommandStart.configuration { () throws(ConfigurationError) in
            try AgentConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        }
        let logger = CommandStart.logger("proxagent", level: configuration.logLevel)
        CommandStart.raiseOpenFileLimit(logger: logger)
        let agent = try await CommandStart.make(logger) { try await Agent.make(configuration: configuration, logger: logger) }
        try await agent.run()
    }
}
