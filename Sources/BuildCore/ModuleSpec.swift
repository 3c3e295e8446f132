/// A plugin as a client names it: `path[@version][=replacement[@version]]`, parsed the
/// way xcaddy parses `--with` (split on the first `=`, then on the last `@`).
public struct ModuleSpec: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The Go package (or module) path to import.
    public let path: String
    /// An exact version (`v1.2.3`, a pseudo-version), or nil for the latest release (or ``revision``).
    public let version: SemanticVersion?
    /// A branch name or commit hash (`master`, `a1b2c3d`), as xcaddy accepts: resolved to
    /// its exact pseudo-version through the module proxy's `.info` before the cache key.
    public let revision: String?
    public let replacement: Replacement?

    /// `go mod edit -replace path=module@version`: only module paths, never filesystem paths.
    public struct Replacement: Hashable, Sendable, Codable, CustomStringConvertible {
        public let path: String
        public let version: SemanticVersion
        public var description: String { "\(path)@\(version)" }

        public init(path: String, version: SemanticVersion) throws(ProxError) {
            try ModuleSpec.validateModulePath(path, role: "replacement")
            self.path = path
            self.version = version
        }
    }

    public init(path: String, version: SemanticVersion? = nil, revision: String? = nil, replacement: Replacement? = nil) throws(ProxError) {
        try Self.validateModulePath(path, role: "module path")
        if let replacement { try Self.validateModulePath(replacement.path, role: "replacement") }
        if let revision {
            guard version == nil, Self.isRevision(revision) else {
                throw .invalid("bad branch or commit \(Platform.quoted(revision)) for \(Platform.quoted(path))")
            }
        }
        self.path = path
        self.version = version
        self.revision = revision
        self.replacement = replacement
    }

    /// Parses `path[@version][=replacement@version]`.
    public init(parsing text: String) throws(ProxError) {
        guard !text.isEmpty else { throw .invalid("empty package: send p=<module path>[@version], e.g. p=github.com/caddy-dns/cloudflare") }
        guard text.utf8.count <= 512 else { throw .invalid("package \(Platform.quoted(text)) is too long (over 512 bytes)") }
        var left = Substring(text)
        var replacement: Replacement?
        if let eq = text.firstIndex(of: "=") {
            left = text[..<eq]
            replacement = try Self.parseReplacement(String(text[text.index(after: eq)...]), for: String(left))
        }
        for scheme in ["https://", "http://", "git@", "ssh://", "git://"] where left.lowercased().hasPrefix(scheme) {
            try Self.validateModulePath(String(left))  // explains what to send instead of a URL
        }
        var path = left
        var query: (version: SemanticVersion?, revision: String?) = (nil, nil)
        if let at = left.lastIndex(of: "@") {
            path = left[..<at]
            query = try Self.parseQuery(String(left[left.index(after: at)...]), of: String(path))
        }
        try self.init(path: String(path), version: query.version, revision: query.revision, replacement: replacement)
    }

    /// The import path with semantic import versioning applied, as xcaddy does: a pinned
    /// version with major >= 2 adds `/vN` unless the path already has it
    /// (`github.com/x/y@v2.1.0` is `github.com/x/y/v2`).
    public var versionedPath: String {
        guard let v = version, v.major >= 2, v.build != "incompatible",
            !path.split(separator: "/").contains(Substring("v\(v.major)"))
        else { return path }
        return path + "/v\(v.major)"
    }

    public var description: String {
        var text = path
        if let version { text += "@\(version)" }
        if let revision { text += "@\(revision)" }
        if let replacement { text += "=\(replacement)" }
        return text
    }

    /// Parses what may follow `@` in a request: empty or `latest` (the newest release), a
    /// semantic version, or a branch name or commit hash (a revision).
    public static func parseQuery(_ text: String, of path: String) throws(ProxError) -> (version: SemanticVersion?, revision: String?) {
        if text.isEmpty || text == "latest" { return (nil, nil) }
        if let v = SemanticVersion(normalizing: text) { return (v, nil) }
        if isRevision(text) { return (nil, text) }
        throw .invalid(
            "bad version \(Platform.quoted(text)) for \(Platform.quoted(path)): send a semantic version such as v1.2.3, "
                + "a Go pseudo-version (v0.0.0-20240102150405-abcdef123456), latest, or a branch name or commit hash (master, a1b2c3d)"
        )
    }

    /// A branch name or commit hash the module proxy can resolve: 1 to 100 of
    /// `A-Z a-z 0-9 . _ -`, starting with a letter or digit, no `..`, not ending with a dot,
    /// and not something that looks like a mistyped version (`v1`, `v2.8`, `1.2.3.4`), nor
    /// one of the go command's own queries (`upgrade`, `patch`). A commit hash of 7 to 40
    /// hexadecimal digits is always one.
    public static func isRevision(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...100).contains(bytes.count), !text.contains(".."), bytes.last != UInt8(ascii: ".") else { return false }
        guard bytes.allSatisfy({ $0 < 0x80 && (Character(Unicode.Scalar($0)).isASCIIAlphanumeric || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D) }),
            Character(Unicode.Scalar(bytes[0])).isASCIIAlphanumeric
        else { return false }
        if (7...40).contains(bytes.count), bytes.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }) { return true }
        if ["latest", "upgrade", "patch", "none"].contains(text) { return false }
        let first = bytes[0], second = bytes.count > 1 ? bytes[1] : 0
        if first == UInt8(ascii: "v"), (0x30...0x39).contains(second) || text.contains(".") { return false }
        if (0x30...0x39).contains(first), text.contains(".") { return false }
        return true
    }

    /// Parses a version as clients send it: empty or `latest` mean "the newest release".
    public static func parseVersion(_ text: String, of path: String) throws(ProxError) -> SemanticVersion? {
        if text.isEmpty || text == "latest" { return nil }
        if let v = SemanticVersion(normalizing: text) { return v }
        throw .invalid(
            "bad version \(Platform.quoted(text)) for \(Platform.quoted(path)): send a semantic version such as v1.2.3, "
                + "a Go pseudo-version (v0.0.0-20240102150405-abcdef123456), or latest; branch names and commit hashes are not accepted"
        )
    }

    static func parseReplacement(_ text: String, for path: String) throws(ProxError) -> Replacement {
        if text.hasPrefix("/") || text.hasPrefix(".") || text.hasPrefix("~") || text.contains("\\") || text.hasPrefix("file:") {
            throw .invalid(
                "replacement \(Platform.quoted(text)) for \(Platform.quoted(path)) is a filesystem path: only module replacements "
                    + "(path=other/module@v1.2.3) are allowed"
            )
        }
        guard let at = text.lastIndex(of: "@") else {
            throw .invalid("replacement \(Platform.quoted(text)) needs an exact version: send \(path)=\(text)@v1.2.3")
        }
        let target = String(text[..<at])
        try validateModulePath(target, role: "replacement")
        guard let version = try parseVersion(String(text[text.index(after: at)...]), of: target) else {
            throw .invalid("replacement \(Platform.quoted(text)) needs an exact version, not latest: send \(path)=\(target)@v1.2.3")
        }
        return try Replacement(path: target, version: version)
    }

    /// A fast, byte-level acceptance of the paths ``validateModulePath(_:role:)`` accepts
    /// with a slash in them: ASCII letters, digits and `-._~`, non-empty elements that
    /// neither start nor end with a dot nor contain `..`, and a first element with a dot,
    /// in lower case, without `_` or `~`, not starting with `-`. False means "check in
    /// detail", not "invalid".
    static func isPlainModulePath(_ path: String) -> Bool {
        let bytes = path.utf8
        guard !bytes.isEmpty, bytes.count <= 256 else { return false }
        var sawSlash = false, firstHasDot = false
        var elementStart = true
        var previous: UInt8 = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "/"):
                if elementStart || previous == UInt8(ascii: ".") { return false }  // empty element, or one ending with a dot
                if !sawSlash, !firstHasDot { return false }
                sawSlash = true
                elementStart = true
                previous = byte
                continue
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                if !sawSlash { return false }  // the domain is lower case, without _ or ~
            case UInt8(ascii: "."):
                if elementStart || previous == UInt8(ascii: ".") { return false }
                if !sawSlash { firstHasDot = true }
            case UInt8(ascii: "-"):
                if elementStart, !sawSlash { return false }
            default:
                return false
            }
            elementStart = false
            previous = byte
        }
        return sawSlash && !elementStart && previous != UInt8(ascii: ".")
    }

    /// First labels of Caddy module IDs (`http.handlers.x`, `dns.providers.y`), to recognise
    /// an ID sent where a package path belongs.
    static let caddyNamespaces: Set<String> = [
        "admin", "caddy", "dns", "events", "http", "layer4", "pki", "storage", "tls", "logging", "exec", "security",
    ]

    /// Go's module path rules (golang.org/x/mod/module.CheckPath), with the mistakes people
    /// make (URLs, Caddy module IDs) answered by what to send instead.
    public static func validateModulePath(_ path: String, role: String = "module path") throws(ProxError) {
        if isPlainModulePath(path) { return }  // the common case, without building any message
        try validateModulePathInDetail(path, role: role)
    }

    static func validateModulePathInDetail(_ path: String, role: String) throws(ProxError) {
        let shown = Platform.quoted(path)
        if path.isEmpty { throw .invalid("empty \(role): send a Go module path such as github.com/caddy-dns/cloudflare") }
        if path.utf8.count > 256 { throw .invalid("\(role) \(shown) is too long: Go module paths are at most 256 bytes here") }
        for scheme in ["https://", "http://", "git@", "ssh://", "git://"] where path.lowercased().hasPrefix(scheme) {
            var fixed = Substring(path.dropFirst(scheme.count))
            if fixed.hasSuffix(".git") { fixed = fixed.dropLast(4) }
            throw .invalid("\(role) \(shown) is a URL: send the Go module path without the scheme, e.g. \(fixed.prefix(120))")
        }
        if !path.contains("/"), let namespace = path.split(separator: ".").first, path.contains("."),
            caddyNamespaces.contains(String(namespace)) || path.contains("_") {
            throw .invalid(
                "\(shown) looks like a Caddy module ID, not a Go package path: send the package that provides it "
                    + "(listed in /api/packages), e.g. github.com/caddy-dns/cloudflare"
            )
        }
        if path.hasPrefix("/") || path.hasSuffix("/") || path.contains("//") {
            throw .invalid("\(role) \(shown) has an empty element: remove leading, trailing or doubled slashes")
        }
        let elements = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, element) in elements.enumerated() {
            if element == "." || element == ".." || element.contains("..") {
                throw .invalid("\(role) \(shown) contains \"..\" or \".\": send a plain module path")
            }
            if element.first == "." || element.last == "." {
                throw .invalid("\(role) \(shown) has an element that starts or ends with a dot")
            }
            for ch in element.unicodeScalars {
                let ok = (ch.isASCII && (ch.properties.isAlphabetic || ("0"..."9").contains(ch))) || "-._~".unicodeScalars.contains(ch)
                if !ok {
                    let what = ch == " " ? "a space" : "the character \(Platform.quoted(String(ch)))"
                    throw .invalid("\(role) \(shown) contains \(what): Go module paths use only letters, digits and - . _ ~")
                }
            }
            if index == 0 {
                if !element.contains(".") {
                    throw .invalid(
                        "\(role) \(shown) has no domain: the first element of a Go module path contains a dot, "
                            + "e.g. github.com/\(path)"
                    )
                }
                if element.contains(where: { $0.isUppercase }) || element.first == "-" || element.contains("_") || element.contains("~") {
                    throw .invalid("\(role) \(shown): the domain must be lower case letters, digits, dots and dashes")
                }
            }
        }
    }
}
