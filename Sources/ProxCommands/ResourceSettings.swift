import BuildCore
import Foundation

/// The per-build resource flags shared by standalone `proxhub` and `proxagent`.
enum ResourceSettings {
    /// Defaults: a runaway build cannot take the host; an ordinary Caddy build (about 1 GiB
    /// of memory at its peak) is far from them.
    static let defaults = BuildResources(memory: 3 << 30, cpus: nil, disk: 4 << 30, fence: .automatic)

    static func settings<C>(_ keyPath: WritableKeyPath<C, BuildResources>) -> [Setting<C>] {
        nonisolated(unsafe) let path = keyPath  // key paths are immutable
        return [
            Setting(flag: "--build-memory", env: "PB_BUILD_MEMORY") { c, v throws(ConfigurationError) in
                c[keyPath: path].memory = try optionalSize(v, "--build-memory", "PB_BUILD_MEMORY", minimum: 64 << 20)
            },
            Setting(flag: "--build-memory-fence", env: "PB_BUILD_MEMORY_FENCE") { c, v throws(ConfigurationError) in
                guard let fence = BuildResources.Fence(rawValue: v.lowercased()) else {
                    throw ConfigurationError("--build-memory-fence/PB_BUILD_MEMORY_FENCE: \(v.debugDescription) is not automatic, cgroup or rlimit")
                }
                c[keyPath: path].fence = fence
            },
            Setting(flag: "--build-cpus", env: "PB_BUILD_CPUS") { c, v throws(ConfigurationError) in
                let cpus = try SettingValue.integer(v, in: 0...4096, "--build-cpus", "PB_BUILD_CPUS")
                c[keyPath: path].cpus = cpus == 0 ? nil : cpus
            },
            Setting(flag: "--build-disk", env: "PB_BUILD_DISK") { c, v throws(ConfigurationError) in
                c[keyPath: path].disk = try optionalSize(v, "--build-disk", "PB_BUILD_DISK", minimum: 16 << 20)
            },
        ]
    }

    /// The default bound of each Go cache (`--go-cache-max-size`).
    static let goCacheMaxSize: Int64? = 20_000_000_000

    static func goCacheSetting<C>(_ keyPath: WritableKeyPath<C, Int64?>) -> Setting<C> {
        nonisolated(unsafe) let path = keyPath  // key paths are immutable
        return Setting(flag: "--go-cache-max-size", env: "PB_GO_CACHE_MAX_SIZE") { c, v throws(ConfigurationError) in
            c[keyPath: path] = try optionalSize(v, "--go-cache-max-size", "PB_GO_CACHE_MAX_SIZE", minimum: 1 << 20)
        }
    }

    /// A size, or `0`/`off` for no limit.
    static func optionalSize(_ v: String, _ flag: String, _ env: String, minimum: Int64) throws(ConfigurationError) -> Int64? {
        let text = v.trimmingCharacters(in: .whitespaces).lowercased()
        if text == "0" || text == "off" { return nil }
        let size = try SettingValue.byteSize(v, flag, env)
        guard size >= minimum else {
            throw ConfigurationError("\(flag)/\(env) must be at least \(BuildResources.format(minimum)) (or 0 for no limit)")
        }
        return size
    }
}
