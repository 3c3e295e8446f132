/// A Go module version: `vMAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, as Go's `semver`
/// package reads it. Go pseudo-versions (`v0.0.0-20240101120000-abcdef123456`) are
/// semantic versions with a pre-release part, so they parse here too.
public struct SemanticVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int
    /// Dot-separated pre-release identifiers; empty for a release.
    public let prerelease: [String]
    public let build: String?

    /// Parses a canonical version. The leading `v` is required (Go's rule); use
    /// ``init(normalizing:)`` to accept `2.8.4` too.
    public init?(_ text: String) {
        guard text.first == "v", text.count <= 128 else { return nil }
        var rest = Substring(text.dropFirst())
        var build: String?
        if let plus = rest.firstIndex(of: "+") {
            let b = rest[rest.index(after: plus)...]
            guard Self.validIdentifiers(b, numericNoLeadingZero: false) else { return nil }
            build = String(b)
            rest = rest[..<plus]
        }
        var pre: [String] = []
        if let dash = rest.firstIndex(of: "-") {
            let p = rest[rest.index(after: dash)...]
            guard Self.validIdentifiers(p, numericNoLeadingZero: true) else { return nil }
            pre = p.split(separator: ".").map(String.init)
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let ma = Self.number(parts[0]), let mi = Self.number(parts[1]), let pa = Self.number(parts[2]) else {
            return nil
        }
        self.major = ma
        self.minor = mi
        self.patch = pa
        self.prerelease = pre
        self.build = build
    }

    /// Accepts `v2.8.4` and `2.8.4`.
    public init?(normalizing text: String) {
        if text.first == "v" { self.init(text) } else { self.init("v" + text) }
    }

    public var isPrerelease: Bool { !prerelease.isEmpty }

    /// True for Go pseudo-versions (`...-yyyymmddhhmmss-abcdefabcdef`).
    public var isPseudoVersion: Bool {
        guard let last = prerelease.last else { return false }
        let pieces = last.split(separator: "-")
        guard pieces.count >= 2, let rev = pieces.last, let stamp = pieces.dropLast().last else { return false }
        let timestamp = stamp.count == 14 && stamp.allSatisfy(\.isASCIIDigit)
        let revision = rev.count == 12 && rev.allSatisfy { $0.isHexDigit && !$0.isUppercase }
        return timestamp && revision
    }

    public var description: String {
        var text = "v\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { text += "-" + prerelease.joined(separator: ".") }
        if let build { text += "+" + build }
        return text
    }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if lhs.major != rhs.major { return lhs.major < rhs.major }
        if lhs.minor != rhs.minor { return lhs.minor < rhs.minor }
        if lhs.patch != rhs.patch { return lhs.patch < rhs.patch }
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true): return false
        case (true, false): return false
        case (false, true): return true
        case (false, false): break
        }
        for (a, b) in zip(lhs.prerelease, rhs.prerelease) where a != b {
            // Numeric identifiers (digits only, any length) compare as numbers and sort
            // before alphanumeric ones; those compare as ASCII text.
            switch (isNumeric(a), isNumeric(b)) {
            case (true, true): return a.count != b.count ? a.count < b.count : a < b
            case (true, false): return true
            case (false, true): return false
            case (false, false): return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
            }
        }
        return lhs.prerelease.count < rhs.prerelease.count
    }

    private static func isNumeric(_ s: String) -> Bool { !s.isEmpty && s.allSatisfy(\.isASCIIDigit) }

    private static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 9, s.allSatisfy(\.isASCIIDigit), s == "0" || s.first != "0" else { return nil }
        return Int(s)
    }

    private static func validIdentifiers(_ s: Substring, numericNoLeadingZero: Bool) -> Bool {
        guard !s.isEmpty else { return false }
        for ident in s.split(separator: ".", omittingEmptySubsequences: false) {
            guard !ident.isEmpty, ident.allSatisfy({ $0.isASCIIAlphanumeric || $0 == "-" }) else { return false }
            if numericNoLeadingZero, ident.allSatisfy(\.isASCIIDigit), ident.count > 1, ident.first == "0" { return false }
        }
        return true
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIIAlphanumeric: Bool { isASCII && (isLetter || isNumber) }
}

extension SemanticVersion: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let version = SemanticVersion(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a semantic version: \(text)"))
        }
        self = version
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
