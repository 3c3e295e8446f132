import Foundation

/// What a setting means, for `--help` and README's configuration tables: its default (as
/// Markdown), a one-line help text and the full description (Markdown).
struct SettingDoc: Sendable {
    let flag: String
    let defaultText: String
    let help: String
    let details: String

    init(_ flag: String, default defaultText: String, help: String, details: String) {
        self.flag = flag
        self.defaultText = defaultText
        self.help = help
        self.details = details
    }
}

/// A command's settings with their documentation, in the order README lists them: the
/// one table from which the command line is parsed, the environment read, `--help`
/// written and README's configuration table generated (`ReadmeSettingsTests` fails when
/// README differs).
struct SettingsTable<Configuration>: Sendable {
    let command: String
    let abstract: String
    let entries: [(setting: Setting<Configuration>, doc: SettingDoc)]

    /// Joins `settings` (how each is applied) with `docs` (what each means, in display
    /// order). Every setting must have exactly one doc and the other way round: a mismatch
    /// is a programming error, caught by the first test that builds the table.
    init(command: String, abstract: String, settings: [Setting<Configuration>], docs: [SettingDoc]) {
        let byFlag = Dictionary(settings.map { ($0.flag, $0) }, uniquingKeysWith: { first, _ in preconditionFailure("\(command): \(first.flag) is defined twice") })
        precondition(Set(docs.map(\.flag)) == Set(byFlag.keys) && docs.count == byFlag.count, "\(command): settings and docs differ: \(Set(docs.map(\.flag)).symmetricDifference(byFlag.keys).sorted())")
        self.command = command
        self.abstract = abstract
        self.entries = docs.map { (byFlag[$0.flag]!, $0) }
    }

    var settings: [Setting<Configuration>] { entries.map(\.setting) }

    // MARK: - The command line

    /// What the command line says: flag → value, a repeated flag's values joined by commas,
    /// a switch as `true` (or the value it was given: `--hub=false`). `-h`/`--help` is
    /// `nil`: the caller prints ``help``. A flag given twice keeps its last value.
    func parse(_ arguments: [String]) throws(ConfigurationError) -> [String: String]? {
        let byFlag = Dictionary(uniqueKeysWithValues: settings.map { ($0.flag, $0) })
        var flags: [String: String] = [:]
        var repeated: [String: [String]] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "-h" || argument == "--help" { return nil }
            guard argument.hasPrefix("--") else {
                throw ConfigurationError("unexpected argument \(argument.debugDescription): \(command) takes only --flags (see \(command) --help)")
            }
            let (name, inline) = argument.firstIndex(of: "=").map { (String(argument[..<$0]), String(argument[argument.index(after: $0)...])) } ?? (argument, nil)
            guard let setting = byFlag[name] else {
                throw ConfigurationError("unknown option \(name): see \(command) --help for the options")
            }
            let value: String
            if let inline {
                value = inline
            } else if setting.form == .switch {
                value = "true"
            } else {
                guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                    throw ConfigurationError("\(name) needs a value (see \(command) --help)")
                }
                value = arguments[index]
                index += 1
            }
            if setting.form == .repeated { repeated[name, default: []].append(value) } else { flags[name] = value }
        }
        for (name, values) in repeated { flags[name] = values.joined(separator: ",") }
        return flags
    }

    // MARK: - Documentation

    /// `--help`: usage, then each flag with its variable, default and help line.
    var help: String {
        let forms = entries.contains { $0.setting.form == .switch } ? "--flag value | --flag=value | --switch" : "--flag value | --flag=value"
        var lines = [abstract, "", "USAGE: \(command) [\(forms)] ...", "",
            "Every option can also be set with its PB_* environment variable, which takes precedence over the flag.", "", "OPTIONS:"]
        for (setting, doc) in entries {
            let usage = setting.form == .switch ? setting.flag : "\(setting.flag) <value>" + (setting.form == .repeated ? " (repeatable)" : "")
            lines.append("  \(usage)")
            lines.append("        \(doc.help) [\(setting.env); default: \(Self.plain(doc.defaultText))]")
        }
        lines.append("  -h, --help")
        lines.append("        Show this help.")
        return lines.joined(separator: "\n")
    }

    /// README's table of this command's settings (GitHub Markdown).
    var markdownTable: String {
        var lines = ["| Flag | Environment | Default | Meaning |", "| --- | --- | --- | --- |"]
        for (setting, doc) in entries {
            lines.append("| `\(setting.flag)` | `\(setting.env)` | \(doc.defaultText) | \(doc.details) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Markdown's code spans as plain text: `` `0.0.0.0` `` → `0.0.0.0`.
    static func plain(_ markdown: String) -> String {
        markdown.replacingOccurrences(of: "`", with: "")
    }
}
