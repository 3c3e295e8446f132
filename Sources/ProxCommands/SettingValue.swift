import ArgumentParser
import BuildCore
import HTTPFront
import Foundation

/// Parsers for setting values; each error names the flag and the variable.
enum SettingValue {
    /// The checks of `--goproxy` and `--build-timeout` both commands make.
    static func validateBuildSettings(goproxy: String, buildTimeout: Duration) throws(ConfigurationError) {
        do {
            _ = try GoProxyFormat.entries(of: goproxy)
        } catch {
            throw ConfigurationError("--goproxy/PB_GOPROXY: \(error.message)")
        }
        if buildTimeout < .seconds(1) { throw ConfigurationError("--build-timeout/PB_BUILD_TIMEOUT must be at least 1 second") }
    }

    /// `--go` values: one path, or several separated by commas (`PB_GO`); repeated `--go`
    /// flags arrive joined by commas.
    static func goExecutables(_ v: String) throws(ConfigurationError) -> [String] {
        let list = v.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !list.isEmpty, !list.contains(where: \.isEmpty) else {
            throw ConfigurationError("--go/PB_GO: \(v.debugDescription) has an empty entry: give go commands separated by commas, e.g. /usr/lib/go-1.23/bin/go,/usr/lib/go-1.22/bin/go")
        }
        return list
    }

    /// Files given several times (or comma-separated in the variable), none empty.
    static func paths(_ v: String, _ flag: String, _ env: String) throws(ConfigurationError) -> [String] {
        let list = v.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !list.contains(where: \.isEmpty) else {
            throw ConfigurationError("\(flag)/\(env): \(v.debugDescription) has an empty entry: give files separated by commas")
        }
        return list
    }

    /// A rate: `30/h`, `600/m`, `10/s` (also `min`, `hour`, `sec`); a bare number counts per
    /// `period`; `0` or `off` is no limit.
    static func rate(_ v: String, per period: Duration, _ flag: String, _ env: String) throws(ConfigurationError) -> Rate {
        let text = v.trimmingCharacters(in: .whitespaces).lowercased()
        if text == "0" || text == "off" { return .unlimited }
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        let units: [String: Duration] = ["s": .seconds(1), "sec": .seconds(1), "m": .seconds(60), "min": .seconds(60), "h": .seconds(3600), "hour": .seconds(3600)]
        guard let count = parts.first.flatMap({ Int($0) }), count >= 0, count <= 1_000_000_000 else {
            throw ConfigurationError("\(flag)/\(env): \(v.debugDescription) is not a rate: give a count per second, minute or hour, e.g. 30/h or 600/m (0 or off: no limit)")
        }
        if parts.count == 1 { return count == 0 ? .unlimited : Rate(count, per: period) }
        guard let unit = units[parts[1]] else {
            throw ConfigurationError("\(flag)/\(env): \(v.debugDescription) has an unknown unit: use /s, /m or /h, e.g. 30/h")
        }
        return count == 0 ? .unlimited : Rate(count, per: unit)
    }

    /// `--trusted-proxies`: addresses and CIDR ranges, separated by commas.
    static func addressRanges(_ v: String, _ flag: String, _ env: String) throws(ConfigurationError) -> [AddressRange] {
        var ranges: [AddressRange] = []
        for item in v.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let range = AddressRange(item) else {
                throw ConfigurationError("\(flag)/\(env): \(item.debugDescription) is not an address or CIDR range, e.g. 10.0.0.0/8, 127.0.0.1 or fd00::/8")
            }
            ranges.append(range)
        }
        return ranges
    }

    /// Tokens given several times (or comma-separated in the variable): at least 16
    /// characters each, so that a short or empty one is not taken for protection.
    static func tokens(_ v: String, _ flag: String, _ env: String) throws(ConfigurationError) -> [String] {
        let tokens = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !tokens.isEmpty, tokens.allSatisfy({ $0.count >= 16 && $0.allSatisfy { $0.isASCII && !$0.isWhitespace && $0 != "," } }) else {
            throw ConfigurationError("\(flag)/\(env): every token needs at least 16 printable ASCII characters and no commas (e.g. from `openssl rand -hex 24`)")
        }
        return tokens
    }

    /// `--go-version`: a Go release as `go env GOVERSION` prints it (`go1.23.5`).
    static func goVersion(_ v: String) throws(ConfigurationError) -> GoVersion {
        guard v.hasPrefix("go"), let version = GoVersion(v), version.isRelease, version.toolchainName == v else {
            throw ConfigurationError("--go-version/PB_GO_VERSION: \(v.debugDescription) is not a Go release as `go env GOVERSION` prints it, e.g. go1.23.5")
        }
        return version
    }

    static func logLevel(_ v: String) throws(ConfigurationError) -> String {
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(v) else {
            throw ConfigurationError("--log-level/PB_LOG_LEVEL: \(v) is not one of trace, debug, info, notice, warning, error, critical")
        }
        return v
    }


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
        let units: [(String, Int)] = [("ms", 0), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = Int(text.dropLast(suffix.count)), n >= 0 {
                return factor == 0 ? .milliseconds(n) : .seconds(n * factor)
            }
        }
        if let n = Int(text), n >= 0 { return .seconds(n) }
        throw ConfigurationError("\(flag)/\(env): \(v) is not a duration (seconds, or with a unit: 90s, 10m, 1h, 7d)")
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
