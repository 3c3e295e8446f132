import ArgumentParser
import BuildCore
import HTTPFront

/// One settable value of a configuration: its flag, its `PB_*` environment variable, how
/// it is written on the command line, and how to apply a value. With its ``SettingDoc``
/// (a ``SettingsTable`` joins them) it is everything the parser, the environment lookup,
/// `--help` and README's configuration tables know about it.
struct Setting<Configuration>: Sendable {
    /// How the flag is written: with a value (`--port 8080`, `--port=8080`), repeated with
    /// a value each (`--go a --go b`, applied as `a,b`), or as a switch with no value
    /// (`--hub`; `--hub=false` also works).
    enum Form: Sendable { case value, repeated, `switch` }

    let flag: String
    let env: String
    let form: Form
    let apply: @Sendable (inout Configuration, String) throws(ConfigurationError) -> Void

    init(
        flag: String, env: String, form: Form = .value,
        apply: @escaping @Sendable (inout Configuration, String) throws(ConfigurationError) -> Void
    ) {
        self.flag = flag
        self.env = env
        self.form = form
        self.apply = apply
    }

    /// Defaults first (`base`), then the flags, then the environment, which wins (as in
    /// prox-builder); empty variables are ignored.
    static func apply(
        _ settings: [Setting], to base: Configuration, flags: [String: String], environment: [String: String]
    ) throws(ConfigurationError) -> Configuration {
        var configuration = base
        for setting in settings {
            if let value = flags[setting.flag] { try setting.apply(&configuration, value) }
        }
        for setting in settings {
            if let value = environment[setting.env], !value.isEmpty { try setting.apply(&configuration, value) }
        }
        return configuration
    }
}
