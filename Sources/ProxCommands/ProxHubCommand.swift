import ArgumentParser
import Foundation
import Logging

/// `proxhub`: the build service. Its flags, their `PB_*` variables (which win) and its
/// `--help` all come from ``HubConfiguration/table``. `proxhub verify FILE ...` checks a
/// downloaded binary offline instead (``VerifyCommand``).
public struct ProxHubCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "proxhub", abstract: HubConfiguration.table.abstract, usage: "proxhub [--flag value | --flag=value | --switch] ... (proxhub --help lists them)",
        helpNames: [])

    /// Everything on the command line, read by ``HubConfiguration/table``.
    @Argument(parsing: .allUnrecognized) var arguments: [String] = []

    public init() {}

    public func run() async throws {
        if arguments.first == "verify" {
            let status = await VerifyCommand.run(Array(arguments.dropFirst()))
            if status != 0 { throw ExitCode(status) }
            return
        }
        let flags = try CommandStart.configuration { () throws(ConfigurationError) in try HubConfiguration.table.parse(arguments) }
        guard let flags else {
            print(HubConfiguration.table.help)
            return
        }
        let configuration = try CommandStart.configuration { () throws(ConfigurationError) in
            try HubConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
        }
        let logger = CommandStart.logger("proxhub", level: configuration.logLevel)
        CommandStart.raiseOpenFileLimit(logger: logger)
        let hub = try await CommandStart.make(logger) { try await ProxhubApp.make(configuration: configuration, logger: logger) }
        try await hub.run()
    }
}
