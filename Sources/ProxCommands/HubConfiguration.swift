import BuildCore
import Foundation

/// Everything `proxhub` is configured with. Defaults first, then flags, then `PB_*`
/// environment variables (which win, as in prox-builder), then one ``validate()``.
public struct HubConfiguration: Sendable, Equatable {
    public var host = "0.0.0.0"
    public var port = 8080
    public var dataDirectory = "./data"
    public var packageEndpoint = "https://caddyserver.com/api/packages"
    public var goproxy = ProcessInfo.processInfo.environment["GOPROXY"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://proxy.golang.org,direct"
    public var goExecutable = "go"
    public var simultaneousJobs = 2
    public var buildTimeout: Duration = .seconds(600)
    public var cacheMaxSize: Int64 = 10_000_000_000
    public var allowUnlisted = false
    public var allowReplacements = false
    public var verifyOnRead = false
    public var catalogRefresh: Duration = .seconds(3600)
    public var resolveTTL: Duration = .seconds(300)
    public var sseHeartbeat: Duration = .seconds(15)
    public var logLevel = "info"

    public init() {}

    /// One settable value: its flag, its environment variable, and how to apply it.
    struct Setting: Sendable {
        let flag: String
        let env: String
        let apply: @Sendable (inout HubConfiguration, String) throws(ConfigurationError) -> Void
    }

    public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    static let settings: [Setting] = [
        Setting(flag: "--webserver-host", env: "PB_WEBSERVER_HOST") { c, v throws(ConfigurationError) in c.host = v },
        Setting(flag: "--webserver-port", env: "PB_WEBSERVER_PORT") { c, v throws(ConfigurationError) in
            c.port = try integer(v, in: 0...65535, "--webserver-port", "PB_WEBSERVER_PORT")
        },
        Setting(flag: "--binary-path", env: "PB_BINARY_PATH") { c, v throws(ConfigurationError) in c.dataDirectory = v },
        Setting(flag: "--package-endpoint", env: "PB_PACKAGE_ENDPOINT") { c, v throws(ConfigurationError) in c.packageEndpoint = v },
        Setting(flag: "--goproxy", env: "PB_GOPROXY") { c, v throws(ConfigurationError) in c.goproxy = v },
        Setting(flag: "--go", env: "PB_GO") { c, v throws(ConfigurationError) in c.goExecutable = v },
        Setting(flag: "--simultaneous-jobs", env: "PB_SIMULTANEOUS_JOBS") { c, v throws(ConfigurationError) in
            c.simultaneousJobs = try integer(v, in: 1...256, "--simultaneous-jobs", "PB_SIMULTANEOUS_JOBS")
        },
        Setting(flag: "--build-timeout", env: "PB_BUILD_TIMEOUT") { c, v throws(ConfigurationError) in
            c.buildTimeout = try duration(v, "--build-timeout", "PB_BUILD_TIMEOUT")
        },
        Setting(flag: "--cache-max-size", env: "PB_CACHE_MAX_SIZE") { c, v throws(ConfigurationError) in
            c.cacheMaxSize = try byteSize(v, "--cache-max-size", "PB_CACHE_MAX_SIZE")
        },
        Setting(flag: "--allow-unlisted", env: "PB_ALLOW_UNLISTED") { c, v throws(ConfigurationError) in
            c.allowUnlisted = try boolean(v, "--allow-unlisted", "PB_ALLOW_UNLISTED")
        },
        Setting(flag: "--allow-replacements", env: "PB_ALLOW_REPLACEMENTS") { c, v throws(ConfigurationError) in
            c.allowReplacements = try boolean(v, "--allow-replacements", "PB_ALLOW_REPLACEMENTS")
        },
        Setting(flag: "--verify-on-read", env: "PB_VERIFY_ON_READ") { c, v throws(ConfigurationError) in
            c.verifyOnRead = try boolean(v, "--verify-on-read", "PB_VERIFY_ON_READ")
        },
        Setting(flag: "--catalog-refresh", env: "PB_CATALOG_REFRESH") { c, v throws(ConfigurationError) in
            c.catalogRefresh = try duration(v, "--catalog-refresh", "PB_CATALOG_REFRESH")
        },
        Setting(flag: "--resolve-ttl", env: "PB_RESOLVE_TTL") { c, v throws(ConfigurationError) in
            c.resolveTTL = try duration(v, "--resolve-ttl", "PB_RESOLVE_TTL")
        },
        Setting(flag: "--sse-heartbeat", env: "PB_SSE_HEARTBEAT") { c, v throws(ConfigurationError) in
            c.sseHeartbeat = try duration(v, "--sse-heartbeat", "PB_SSE_HEARTBEAT")
        },
        Setting(flag: "--log-level", env: "PB_LOG_LEVEL") { c, v throws(ConfigurationError) in
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(v) else {
                throw ConfigurationError("--log-level/PB_LOG_LEVEL: \(v) is not one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = v
        },
    ]

    /// Applies `flags` (flag name → value, as parsed) and then `environment`.
    public static func resolve(flags: [String: String], environment: [String: String]) throws(ConfigurationError) -> HubConfiguration {
        var configuration = HubConfiguration()
        for setting in settings {
            if let value = flags[setting.flag] { try setting.apply(&configuration, value) }
        }
        for setting in settings {
            if let value = environment[setting.env], !value.isEmpty { try setting.apply(&configuration, value) }
        }
        try configuration.validate()
        return configuration
    }

    public func validate() throws(ConfigurationError) {
        if host.isEmpty { throw ConfigurationError("--webserver-host/PB_WEBSERVER_HOST is empty: give an address such as 0.0.0.0 or 127.0.0.1") }
        if dataDirectory.isEmpty { throw ConfigurationError("--binary-path/PB_BINARY_PATH is empty: give a directory for the cache") }
        guard ["file://", "http://", "https://"].contains(where: packageEndpoint.hasPrefix) else {
            throw ConfigurationError("--package-endpoint/PB_PACKAGE_ENDPOINT \(packageEndpoint) is not an http://, https:// or file:// URL")
        }
        do {
            _ = try ModuleProxy(goproxy: goproxy)
        } catch {
            throw ConfigurationError("--goproxy/PB_GOPROXY: \(error.message)")
        }
        if buildTimeout < .seconds(1) { throw ConfigurationError("--build-timeout/PB_BUILD_TIMEOUT must be at least 1 second") }
        if sseHeartbeat < .milliseconds(100) { throw ConfigurationError("--sse-heartbeat/PB_SSE_HEARTBEAT must be at least 100ms") }
        if cacheMaxSize < 1 << 20 { throw ConfigurationError("--cache-max-size/PB_CACHE_MAX_SIZE must be at least 1MB") }
    }

    // MARK: - Value parsing

    static func integer(_ v: String, in range: ClosedRange<Int>, _ flag: String, _ env: String) throws(ConfigurationError) -> Int {
        guard let n = Int(v.trimmingCharacters(in: .whitespaces)), range.contains(n) else {
            throw ConfigurationError("\(flag)/\(env): \(v) is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    static func boolean(_ v: String, _ flag: String, _ env: String) throws(ConfigurationError) -> Bool {
        switch v.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError("\(flag)/\(env): \(v) is not a boolean (true/false, 1/0, yes/no, on/off)")
        }
    }

    /// `600`, `600s`, `10m`, `1h`.
    static func duration(_ v: String, _ flag: String, _ env: String) throws(ConfigurationError) -> Duration {
        let text = v.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Int)] = [("ms", 0), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = Int(text.dropLast(suffix.count)), n >= 0 {
                return factor == 0 ? .milliseconds(n) : .seconds(n * factor)
            }
        }
        if let n = Int(text), n >= 0 { return .seconds(n) }
        throw ConfigurationError("\(flag)/\(env): \(v) is not a duration (seconds, or with a unit: 90s, 10m, 1h)")
    }

    /// `10GB`, `500MB`, `1GiB`, `1048576`.
    static func byteSize(_ v: String, _ flag: String, _ env: String) throws(ConfigurationError) -> Int64 {
        let text = v.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [(String, Int64)] = [
            ("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30), ("TIB", 1 << 40),
            ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            if let n = Double(number), n > 0 { return Int64(n * Double(factor)) }
        }
        if let n = Int64(text), n > 0 { return n }
        throw ConfigurationError("\(flag)/\(env): \(v) is not a size (bytes, or with a unit: 500MB, 10GB, 1GiB)")
    }
}
