/// A Go version as the go command writes it: the `go` line of a go.mod (`1.21`, `1.22.0`,
/// `1.23rc1`), a `toolchain` line (`go1.23.4`), or `go env GOVERSION` (`go1.23.5`).
///
/// Ordering follows Go's `gover` package: within a language version `1.N`, the bare
/// language version sorts first, then its pre-releases, then its releases:
/// `1.21 < 1.21rc1 < 1.21rc2 < 1.21.0 < 1.21.1`. Only Go 1 exists, so the major number is
/// always 1; versions before 1.21 have no `.0` release (`1.20` is itself the release).
public struct GoVersion: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let minor: Int
    /// Nil for a bare language version (`1.21`, `go 1.20`), which stands for the whole minor.
    public let patch: Int?
    /// `rc1`, `beta2`: pre-release kind and number; nil for releases and language versions.
    public let prerelease: (kind: String, number: Int)?

    public init(minor: Int, patch: Int?) {
        self.minor = minor
        self.patch = patch
        self.prerelease = nil
    }

    /// Parses `1.23`, `1.23.4`, `1.23rc1`, with or without a leading `go`. Trailing text
    /// after a space (`go1.23.5 X:nocoverageredesign`, Debian's and experiment builds) is
    /// ignored. Nil for anything else (`devel`, `2.0`, `1.x`).
    public init?(_ text: String) {
        var s = Substring(text)
        if let space = s.firstIndex(of: " ") { s = s[..<space] }
        if s.hasPrefix("go") { s = s.dropFirst(2) }
        guard s.hasPrefix("1."), s.count <= 32 else { return nil }
        s = s.dropFirst(2)
        let digits = s.prefix { $0.isASCIIDigit }
        guard let minor = Self.number(digits) else { return nil }
        s = s.dropFirst(digits.count)
        self.minor = minor
        if s.isEmpty {
            self.patch = nil
            self.prerelease = nil
        } else if s.first == "." {
            guard let patch = Self.number(s.dropFirst()) else { return nil }
            self.patch = patch
            self.prerelease = nil
        } else {
            let kind = s.prefix { $0.isASCIILetter }
            guard kind == "rc" || kind == "beta", let n = Self.number(s.dropFirst(kind.count)) else { return nil }
            self.patch = nil
            self.prerelease = (String(kind), n)
        }
    }

    /// Go 1.N.P (a release).
    public static func release(_ minor: Int, _ patch: Int) -> GoVersion { GoVersion(minor: minor, patch: patch) }

    /// True for a release that the go command can download or run: `1.21.0` and later as
    /// `1.N.P`; before 1.21, `1.N` and `1.N.P` (no rc, beta or language-only form).
    public var isRelease: Bool {
        guard prerelease == nil else { return false }
        return patch != nil || minor < 21
    }

    /// The language version `1.N` this version belongs to.
    public var language: GoVersion { GoVersion(minor: minor, patch: nil) }

    /// `go1.23.5`, as `go env GOVERSION` prints it and `GOTOOLCHAIN` takes it.
    public var toolchainName: String { "go" + description }

    /// `1.23.5`, `1.23`, `1.23rc1`: as a go.mod `go` line writes it.
    public var description: String {
        var text = "1.\(minor)"
        if let patch { text += ".\(patch)" }
        if let prerelease { text += "\(prerelease.kind)\(prerelease.number)" }
        return text
    }

    public static func == (a: GoVersion, b: GoVersion) -> Bool {
        a.minor == b.minor && a.patch == b.patch && a.prerelease?.kind == b.prerelease?.kind && a.prerelease?.number == b.prerelease?.number
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(minor)
        hasher.combine(patch)
        hasher.combine(prerelease?.kind)
        hasher.combine(prerelease?.number)
    }

    public static func < (a: GoVersion, b: GoVersion) -> Bool {
        if a.minor != b.minor { return a.minor < b.minor }
        return a.rank < b.rank
    }

    /// Order within one minor: language version, then beta, then rc, then releases.
    private var rank: (Int, Int) {
        if let patch { return (3, patch) }
        if let prerelease { return (prerelease.kind == "beta" ? 1 : 2, prerelease.number) }
        // Before Go 1.21 the bare `1.N` is also the release `1.N.0`.
        return minor < 21 ? (3, 0) : (0, 0)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let version = GoVersion(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a Go version: \(text)"))
        }
        self = version
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(toolchainName)
    }

    private static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 6, s.allSatisfy(\.isASCIIDigit), s == "0" || s.first != "0" else { return nil }
        return Int(s)
    }
}

extension Character {
    var isASCIILetter: Bool { isASCII && isLetter }
}
