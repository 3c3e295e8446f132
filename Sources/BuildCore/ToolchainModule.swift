

/// The `golang.org/toolchain` module the go command downloads toolchains as.
public enum ToolchainModule {
    public static let path = "golang.org/toolchain"

    /// This host's GOOS and GOARCH (toolchains run on the build host, whatever the target).
    public static var hostTarget: String {
        #if os(Linux)
        let os = "linux"
        #elseif os(macOS)
        let os = "darwin"
        #elseif os(FreeBSD)
        let os = "freebsd"
        #else
        let os = "unknown"
        #endif
        #if arch(x86_64)
        let arch = "amd64"
        #elseif arch(arm64)
        let arch = "arm64"
        #elseif arch(i386)
        let arch = "386"
        #elseif arch(arm)
        let arch = "arm"
        #else
        let arch = "unknown"
        #endif
        return "\(os)-\(arch)"
    }

    /// `v0.0.1-go1.23.5.linux-amd64`.
    public static func moduleVersion(_ version: GoVersion, host: String = hostTarget) -> String {
        "v0.0.1-\(version.toolchainName).\(host)"
    }

    /// The release versions in a `golang.org/toolchain/@v/list` for `host`.
    public static func releases(inList list: [String], host: String = hostTarget) -> [GoVersion] {
        let suffix = "." + host
        return list.compactMap { entry -> GoVersion? in
            guard entry.hasPrefix("v0.0.1-go"), entry.hasSuffix(suffix) else { return nil }
            let name = entry.dropFirst("v0.0.1-".count).dropLast(suffix.count)
            guard let version = GoVersion(String(name)), version.isRelease, version.toolchainName == name else { return nil }
            return version
        }
    }
}
