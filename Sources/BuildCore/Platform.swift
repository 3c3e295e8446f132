/// A Go build target: GOOS, GOARCH and, for `arm`, GOARM.
///
/// Only the targets the official download page offers are accepted; see ``Platform/supported``.
public struct Platform: Hashable, Sendable, Codable, CustomStringConvertible {
    public let os: String
    public let arch: String
    /// GOARM (5, 6 or 7) when `arch == "arm"`, otherwise nil.
    public let arm: Int?

    public static let defaultARM = 7
    public static let armVersions = [5, 6, 7]

    /// Every GOOS and its GOARCH values that Prox builds for.
    public static let supported: [(os: String, arches: [String])] = [
        ("linux", ["amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips", "mipsle", "mips64", "mips64le"]),
        ("darwin", ["amd64", "arm64"]),
        ("windows", ["amd64", "arm64", "386", "arm"]),
        ("freebsd", ["amd64", "arm64", "386", "arm"]),
        ("openbsd", ["amd64", "arm64", "386", "arm"]),
        ("netbsd", ["amd64", "386", "arm"]),
        ("dragonfly", ["amd64"]),
        ("solaris", ["amd64"]),
        ("illumos", ["amd64"]),
        ("aix", ["ppc64"]),
        ("plan9", ["amd64", "386"]),
    ]

    /// Every supported target, with one entry per GOARM value for `arm`.
    public static var all: [Platform] {
        supported.flatMap { os, arches in
            arches.flatMap { arch -> [Platform] in
                arch == "arm"
                    ? armVersions.map { Platform(uncheckedOS: os, arch: arch, arm: $0) }
                    : [Platform(uncheckedOS: os, arch: arch, arm: nil)]
            }
        }
    }

    /// Validates and creates a platform. `arm` is only meaningful for `arch == "arm"`,
    /// where it defaults to 7; for other architectures it must be absent or empty.
    public init(os: String, arch: String, arm: String? = nil) throws(ProxError) {
        guard let entry = Self.supported.first(where: { $0.os == os }) else {
            let names = Self.supported.map(\.os).joined(separator: ", ")
            throw .invalid(
                os.isEmpty
                    ? "missing os: send os= one of \(names)"
                    : "unknown os \(Self.quoted(os)): send os= one of \(names)"
            )
        }
        guard entry.arches.contains(arch) else {
            throw .invalid(
                arch.isEmpty
                    ? "missing arch: for os=\(os) send arch= one of \(entry.arches.joined(separator: ", "))"
                    : "unknown arch \(Self.quoted(arch)) for os=\(os): send arch= one of \(entry.arches.joined(separator: ", "))"
            )
        }
        let armText = arm ?? ""
        if arch == "arm" {
            if armText.isEmpty {
                self.init(uncheckedOS: os, arch: arch, arm: Self.defaultARM)
            } else if let value = Int(armText), Self.armVersions.contains(value) {
                self.init(uncheckedOS: os, arch: arch, arm: value)
            } else {
                throw .invalid("unknown arm \(Self.quoted(armText)): send arm= one of 5, 6, 7 (GOARM), or leave it out for 7")
            }
        } else {
            guard armText.isEmpty else {
                throw .invalid("arm=\(Self.quoted(armText)) only applies to arch=arm; leave it out for arch=\(arch)")
            }
            self.init(uncheckedOS: os, arch: arch, arm: nil)
        }
    }

    init(uncheckedOS os: String, arch: String, arm: Int?) {
        self.os = os
        self.arch = arch
        self.arm = arm
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let os = try container.decode(String.self, forKey: .os)
        let arch = try container.decode(String.self, forKey: .arch)
        let arm = try container.decodeIfPresent(Int.self, forKey: .arm)
        try self.init(os: os, arch: arch, arm: arm.map(String.init))
    }

    /// `linux/amd64`, `linux/arm/v6`.
    public var description: String {
        if let arm { return "\(os)/\(arch)/v\(arm)" }
        return "\(os)/\(arch)"
    }

    /// The environment the Go toolchain needs for this target.
    public var goEnvironment: [String: String] {
        var env = ["GOOS": os, "GOARCH": arch]
        if let arm { env["GOARM"] = String(arm) }
        return env
    }

    /// The executable file format the Go linker produces for this OS.
    public var executableFormat: ExecutableFormat {
        switch os {
        case "darwin": return .machO
        case "windows": return .pe
        case "aix": return .xcoff
        case "plan9": return .plan9
        default: return .elf
        }
    }

    /// What the go command appends to an executable's name for this platform: `.exe` on
    /// Windows, nothing elsewhere.
    public var executableSuffix: String { os == "windows" ? ".exe" : "" }

    /// File name offered for download, e.g. `caddy_linux_arm6_custom`, `caddy_windows_amd64_custom.exe`.
    public var downloadFileName: String {
        let archPart = arm.map { "\(arch)\($0)" } ?? arch
        return "caddy_\(os)_\(archPart)_custom" + executableSuffix
    }

    public static func quoted(_ value: String) -> String {
        let shown = value.count > 40 ? String(value.prefix(40)) + "..." : value
        return "\"" + shown.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F ? String($0) : "?" }.joined() + "\""
    }
}
