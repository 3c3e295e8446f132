import Foundation
@testable import ProxCommands
import Testing

/// README's configuration tables are generated from the settings tables: they must be
/// what the code says. `PROX_UPDATE_README=1 swift test --filter ReadmeSettingsTests`
/// writes them.
@Suite struct ReadmeSettingsTests {
    static let readmePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md").path

    /// The text between README's markers for `name`.
    static func section(_ name: String, in readme: String) throws -> Range<String.Index> {
        let start = try #require(readme.range(of: "<!-- \(name) settings: generated from"), "README has no marker for \(name)'s settings")
        let tableStart = try #require(readme.range(of: "\n", range: start.upperBound..<readme.endIndex)).upperBound
        let end = try #require(readme.range(of: "\n<!-- end of \(name) settings -->", range: tableStart..<readme.endIndex))
        return tableStart..<end.lowerBound
    }

    @Test func readmeTablesAreTheSettingsTables() throws {
        var readme = try String(contentsOfFile: Self.readmePath, encoding: .utf8)
        let tables = [("proxhub", HubConfiguration.table.markdownTable), ("proxagent", AgentConfiguration.table.markdownTable)]
        if ProcessInfo.processInfo.environment["PROX_UPDATE_README"] == "1" {
            for (name, table) in tables { readme.replaceSubrange(try Self.section(name, in: readme), with: table) }
            try readme.write(toFile: Self.readmePath, atomically: true, encoding: .utf8)
        }
        for (name, table) in tables {
            let written = String(readme[try Self.section(name, in: readme)])
            #expect(written == table, "README's \(name) table differs from the code: run PROX_UPDATE_README=1 swift test --filter ReadmeSettingsTests")
        }
    }
}

@Suite struct SettingsTableTests {
    static let table = HubConfiguration.table

    @Test("values, =values, repeated flags, switches")
    func parsing() throws {
        let flags = try #require(try Self.table.parse([
            "--webserver-port", "9000", "--goproxy=file:///srv/proxy", "--go", "/a/go", "--go=/b/go", "--hub", "--verify-on-read=false",
            "--pull-token", "0123456789abcdef0123", "--pull-token", "abcdef0123456789abcd",
        ]))
        #expect(flags == [
            "--webserver-port": "9000", "--goproxy": "file:///srv/proxy", "--go": "/a/go,/b/go", "--hub": "true", "--verify-on-read": "false",
            "--pull-token": "0123456789abcdef0123,abcdef0123456789abcd",
        ])
        let configuration = try HubConfiguration.resolve(flags: flags, environment: ["PB_WEBSERVER_PORT": "9001"])
        #expect(configuration.port == 9001, "the environment wins")
        #expect(configuration.goExecutables == ["/a/go", "/b/go"])
        #expect(configuration.hub && !configuration.verifyOnRead)
        #expect(try Self.table.parse(["--webserver-port", "1", "--webserver-port", "2"])?["--webserver-port"] == "2", "the last one wins")
    }

    @Test("-h and --help ask for help")
    func helpRequests() throws {
        #expect(try Self.table.parse(["--hub", "--help"]) == nil)
        #expect(try Self.table.parse(["-h"]) == nil)
        let help = Self.table.help
        for (setting, doc) in Self.table.entries {
            #expect(help.contains("  \(setting.flag)"), "\(setting.flag)")
            #expect(help.contains("\(doc.help) [\(setting.env); default: "), "\(setting.flag)")
        }
        #expect(help.contains("--go <value> (repeatable)"))
        #expect(help.contains("\n  --hub\n"))
        #expect(!help.contains("`"), "help is plain text")
    }

    @Test("mistakes are usage errors naming the fix", arguments: [
        (["--webserver-prot", "80"], "unknown option --webserver-prot: see proxhub --help"),
        (["--webserver-port"], "--webserver-port needs a value"),
        (["--webserver-port", "--hub"], "--webserver-port needs a value"),
        (["serve"], "unexpected argument \"serve\": proxhub takes only --flags"),
    ])
    func mistakes(arguments: [String], message: String) {
        let error = #expect(throws: ConfigurationError.self) { try Self.table.parse(arguments) }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func everySettingOfBothCommandsIsDocumentedOnce() {
        for table in [HubConfiguration.table.entries.map { ($0.setting.flag, $0.setting.env, $0.doc) }, AgentConfiguration.table.entries.map { ($0.setting.flag, $0.setting.env, $0.doc) }] {
            #expect(Set(table.map(\.0)).count == table.count)
            for (flag, env, doc) in table {
                #expect(env == "PB_" + flag.dropFirst(2).uppercased().replacingOccurrences(of: "-", with: "_"), "\(flag) → \(env)")
                #expect(!doc.help.isEmpty && !doc.details.isEmpty && !doc.defaultText.isEmpty, "\(flag)")
            }
        }
        #expect(AgentConfiguration.table.help.contains("--hub-url <value>"))
    }
}
