import BuildCore
import ArgumentParser
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

/// The build-resource flags of `proxhub` and `proxagent`, declared once.
struct BuildResourceOptions: ParsableArguments {
    @Option(name: .customLong("build-memory"), help: "Memory one build may use: 3GiB, 512MiB; 0 for none (PB_BUILD_MEMORY). Default: 3GiB")
    var buildMemory: String?
    @Option(name: .customLong("build-memory-fence"), help: "How: automatic (a cgroup if possible, else an rlimit), cgroup, rlimit (PB_BUILD_MEMORY_FENCE). Default: automatic")
    var buildMemoryFence: String?
    @Option(name: .customLong("build-cpus"), help: "CPUs one build uses (go build -p, GOMAXPROCS); 0 for all (PB_BUILD_CPUS). Default: 0")
    var buildCPUs: String?
    @Option(name: .customLong("build-disk"), help: "Bytes one build's work directory may hold; 0 for none (PB_BUILD_DISK). Default: 4GiB")
    var buildDisk: String?
    @Option(name: .customLong("go-cache-max-size"), help: "Bound of the Go build cache and of the module cache, each; 0 for none (PB_GO_CACHE_MAX_SIZE). Default: 20GB")
    var goCacheMaxSize: String?

    init() {}

    var flags: [(String, String?)] {
        [
            ("--build-memory", buildMemory), ("--build-memory-fence", buildMemoryFence), ("--build-cpus", buildCPUs),
            ("--build-disk", buildDisk), ("--go-cache-max-size", goCacheMaxSize),
        ]
    }
}
