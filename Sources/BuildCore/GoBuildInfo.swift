/// The build information the Go linker writes into every binary (what `go version -m`
/// prints): the toolchain, the main module, every module of the build list with its
/// version and `h1:` sum, and the build settings (flags and environment that affect the
/// output: `-trimpath`, `CGO_ENABLED`, `GOOS`, `GOARCH`, `GOAMD64`, ...).
///
/// Prox reads it from the artifact itself, so what its provenance lists is what is in the
/// binary, whoever built it (an agent sends only the bytes).
public struct GoBuildInfo: Sendable, Equatable, Codable {
    public struct Module: Sendable, Equatable, Codable {
        public var path: String
        public var version: String
        /// The `h1:` checksum (absent for the main module and for directory replacements).
        public var sum: String?
        /// What `go.mod` replaced the module with (`=>` in `go version -m`).
        public var replacement: Replacement?
    }

    public struct Replacement: Sendable, Equatable, Codable {
        public var path: String
        public var version: String?
        public var sum: String?
    }

    public struct Setting: Sendable, Equatable, Codable {
        public var key: String
        public var value: String
    }

    /// The toolchain: `go1.23.5`.
    public var goVersion: String
    /// The main package's path.
    public var path: String
    public var main: Module?
    /// The build list, as the binary records it.
    public var dependencies: [Module]
    public var settings: [Setting]

    /// `\xff Go buildinf:`, which starts the build information's header.
    public static let magic: [UInt8] = [0xff] + Array(" Go buildinf:".utf8)
    /// The header's size; since Go 1.18 the two strings follow it inline.
    static let headerSize = 32

    /// Parses the build information starting at `bytes` (which begin with ``magic``).
    /// Throws `.invalidArtifact` for another layout (Go before 1.18) or a truncated one.
    public init(header bytes: ArraySlice<UInt8>) throws(ProxError) {
        guard bytes.starts(with: Self.magic), bytes.count >= Self.headerSize else {
            throw Self.invalid("no build information header")
        }
        let flags = bytes[bytes.startIndex + 15]
        guard flags & 0x2 != 0 else { throw Self.invalid("build information in the pre-Go 1.18 layout") }
        var cursor = bytes.startIndex + Self.headerSize
        let version = try Self.string(bytes, at: &cursor)
        var modinfo = try Self.string(bytes, at: &cursor)
        // The linker wraps modinfo in 16-byte sentinels.
        let utf8 = Array(modinfo.utf8)
        if utf8.count >= 33, utf8[utf8.count - 17] == 0x0A {
            modinfo = String(decoding: utf8[16..<(utf8.count - 16)], as: UTF8.self)
        }
        guard version.hasPrefix("go") else { throw Self.invalid("no Go version in the build information") }
        try self.init(goVersion: version, modinfo: modinfo)
    }

    /// Parses the text `go version -m` shows (without the version line).
    public init(goVersion: String, modinfo: String) throws(ProxError) {
        self.goVersion = goVersion
        path = ""
        dependencies = []
        settings = []
        var last: Module?
        var lastIsMain = false
        for line in modinfo.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "path":
                guard fields.count >= 2 else { throw Self.invalid("bad path line: \(line)") }
                path = fields[1]
            case "mod", "dep":
                guard fields.count >= 3 else { throw Self.invalid("bad module line: \(line)") }
                if let module = last { lastIsMain ? (main = module) : dependencies.append(module) }
                last = Module(path: fields[1], version: fields[2], sum: fields.count > 3 && !fields[3].isEmpty ? fields[3] : nil)
                lastIsMain = fields[0] == "mod"
            case "=>":
                guard fields.count >= 2, last != nil, last?.replacement == nil else { throw Self.invalid("a replacement without its module: \(line)") }
                last?.replacement = Replacement(
                    path: fields[1], version: fields.count > 2 && !fields[2].isEmpty ? fields[2] : nil,
                    sum: fields.count > 3 && !fields[3].isEmpty ? fields[3] : nil
                )
            case "build":
                guard fields.count >= 2, let equals = fields[1].firstIndex(of: "=") else { throw Self.invalid("bad build line: \(line)") }
                settings.append(Setting(key: String(fields[1][..<equals]), value: String(fields[1][fields[1].index(after: equals)...])))
            default:
                continue  // lines of later Go versions this parser does not know
            }
        }
        if let module = last { lastIsMain ? (main = module) : dependencies.append(module) }
    }

    /// A build setting's value (`CGO_ENABLED`, `GOARCH`, `-trimpath`, ...).
    public func setting(_ key: String) -> String? { settings.first { $0.key == key }?.value }

    /// A uvarint-length-prefixed string.
    private static func string(_ bytes: ArraySlice<UInt8>, at cursor: inout Int) throws(ProxError) -> String {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard cursor < bytes.endIndex, shift < 64 else { throw invalid("truncated build information") }
            let byte = bytes[cursor]
            cursor += 1
            length |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard length <= UInt64(bytes.endIndex - cursor) else { throw invalid("truncated build information") }
        let text = String(decoding: bytes[cursor..<(cursor + Int(length))], as: UTF8.self)
        cursor += Int(length)
        return text
    }

    private static func invalid(_ message: String) -> ProxError {
        ProxError(.invalidArtifact, "cannot read the binary's Go build information: \(message)")
    }
}
