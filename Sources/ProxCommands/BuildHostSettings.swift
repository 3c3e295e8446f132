/// The settings proxhub (standalone) and proxagent share as hosts that run builds: the go
/// commands, toolchain downloads, GOPROXY, slots, time limit and log level. Written once;
/// each command's table documents them in its own words.
enum BuildHostSettings {
    static func settings<C>(
        go: WritableKeyPath<C, [String]>, toolchainDownload: WritableKeyPath<C, Bool>, goproxy: WritableKeyPath<C, String>,
        simultaneousJobs: WritableKeyPath<C, Int>, buildTimeout: WritableKeyPath<C, Duration>, logLevel: WritableKeyPath<C, String>
    ) -> [Setting<C>] {
        // Key paths are immutable values.
        nonisolated(unsafe) let (go, toolchainDownload, goproxy) = (go, toolchainDownload, goproxy)
        nonisolated(unsafe) let (simultaneousJobs, buildTimeout, logLevel) = (simultaneousJobs, buildTimeout, logLevel)
        return [
            Setting(flag: "--go", env: "PB_GO", form: .repeated) { c, v throws(ConfigurationError) in c[keyPath: go] = try SettingValue.goExecutables(v) },
            Setting(flag: "--toolchain-download", env: "PB_TOOLCHAIN_DOWNLOAD") { c, v throws(ConfigurationError) in
                c[keyPath: toolchainDownload] = try SettingValue.boolean(v, "--toolchain-download", "PB_TOOLCHAIN_DOWNLOAD")
            },
            Setting(flag: "--goproxy", env: "PB_GOPROXY") { c, v throws(ConfigurationError) in c[keyPath: goproxy] = v },
            Setting(flag: "--simultaneous-jobs", env: "PB_SIMULTANEOUS_JOBS") { c, v throws(ConfigurationError) in
                c[keyPath: simultaneousJobs] = try SettingValue.integer(v, in: 1...256, "--simultaneous-jobs", "PB_SIMULTANEOUS_JOBS")
            },
            Setting(flag: "--build-timeout", env: "PB_BUILD_TIMEOUT") { c, v throws(ConfigurationError) in
                c[keyPath: buildTimeout] = try SettingValue.duration(v, "--build-timeout", "PB_BUILD_TIMEOUT")
            },
            Setting(flag: "--log-level", env: "PB_LOG_LEVEL") { c, v throws(ConfigurationError) in c[keyPath: logLevel] = try SettingValue.logLevel(v) },
        ]
    }
}
