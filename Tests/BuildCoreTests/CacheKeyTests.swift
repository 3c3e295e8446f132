import BuildCore
import Foundation
import Testing

@Suite("CacheKey and ResolvedBuild")
struct CacheKeyTests {
    static func v(_ text: String) throws -> SemanticVersion { try #require(SemanticVersion(text)) }

    /// A replacement as a client sends it (Replacement has no public initializer).
    static func replacement(_ text: String) throws -> ModuleSpec.Replacement {
        try #require(try ModuleSpec(parsing: "example.com/replaced=" + text).replacement)
    }

    static func hello() throws -> ResolvedModule {
        ResolvedModule(path: "github.com/proxfixture/hello", module: "github.com/proxfixture/hello", version: try v("v0.2.0"))
    }
    static func multi() throws -> ResolvedModule {
        ResolvedModule(path: "github.com/proxfixture/multi/handlers", module: "github.com/proxfixture/multi", version: try v("v1.0.0"))
    }

    /// linux/arm/v6, Caddy v2.8.4, go1.23.5, default flags, two plugins given out of order.
    static func goldenBuild() throws -> ResolvedBuild {
        ResolvedBuild(
            platform: try Platform(os: "linux", arch: "arm", arm: "6"),
            caddyVersion: try v("v2.8.4"),
            plugins: [try multi(), try hello()],
            settings: BuildSettings(goVersion: "go1.23.5")
        )
    }

    @Test("golden vector: canonical encoding and SHA-256 are fixed")
    func golden() throws {
        let build = try Self.goldenBuild()
        let expectedEncoding = """
            prox-build/1
            target=linux/arm/v6
            caddy=github.com/caddyserver/caddy/v2@v2.8.4
            go=go1.23.5
            cgo=0
            trimpath=1
            ldflags=-w -s
            tags=nobadger,nomysql,nopgx
            plugin=github.com/proxfixture/hello github.com/proxfixture/hello@v0.2.0
            plugin=github.com/proxfixture/multi/handlers github.com/proxfixture/multi@v1.0.0

            """
        #expect(build.canonicalEncoding == expectedEncoding)
        // Computed independently: printf '<the encoding above>' | sha256sum
        #expect(build.cacheKey.hex == "a754d473f470cfdfbbebc01c5ce84148aa283156fbf0df1ba6781862a6092f6c")
        #expect(build.cacheKey.description == build.cacheKey.hex)
    }

    @Test("golden vector with a replacement, a pre-release and windows")
    func goldenReplacement() throws {
        let build = ResolvedBuild(
            platform: try Platform(os: "windows", arch: "amd64"),
            caddyVersion: try Self.v("v2.9.0-beta.1"),
            plugins: [
                ResolvedModule(
                    path: "github.com/proxfixture/hello", module: "github.com/proxfixture/hello", version: try Self.v("v0.1.0"),
                    replacement: try Self.replacement("github.com/proxfork/hello@v0.1.1")
                ),
            ],
            settings: BuildSettings(goVersion: "go1.23.5")
        )
        #expect(build.canonicalEncoding.hasSuffix(
            "plugin=github.com/proxfixture/hello github.com/proxfixture/hello@v0.1.0 => github.com/proxfork/hello@v0.1.1\n"))
        #expect(build.canonicalEncoding.contains("\ntarget=windows/amd64\n"))
        // printf 'prox-build/1\ntarget=windows/amd64\ncaddy=...@v2.9.0-beta.1\n...' | sha256sum
        #expect(build.cacheKey.hex == "78af7f5b9e80e8cf3b37a67f4cc149ce07726ac7f992e6e001fd3bcf0bc7d95a")
    }

    @Test("CacheKey(encoding:) is SHA-256 of the UTF-8 bytes")
    func knownDigests() {
        #expect(CacheKey(encoding: "").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(CacheKey(encoding: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("plugin order does not change the key; plugins are kept sorted by path")
    func pluginOrder() throws {
        let a = try Self.goldenBuild()
        let b = ResolvedBuild(platform: a.platform, caddyVersion: a.caddyVersion, plugins: [try Self.hello(), try Self.multi()], settings: a.settings)
        #expect(a.cacheKey == b.cacheKey)
        #expect(a == b)
        #expect(a.plugins.map(\.path) == ["github.com/proxfixture/hello", "github.com/proxfixture/multi/handlers"])
    }

    @Test("every input changes the key")
    func inputsMatter() throws {
        let base = try Self.goldenBuild()
        func with(
            platform: Platform? = nil, caddy: SemanticVersion? = nil, plugins: [ResolvedModule]? = nil, settings: BuildSettings? = nil
        ) -> ResolvedBuild {
            ResolvedBuild(
                platform: platform ?? base.platform, caddyVersion: caddy ?? base.caddyVersion, plugins: plugins ?? base.plugins,
                settings: settings ?? base.settings
            )
        }
        let hello = try Self.hello()
        let variants: [(String, ResolvedBuild)] = [
            ("GOARM 7", with(platform: try Platform(os: "linux", arch: "arm", arm: "7"))),
            ("GOARM 5", with(platform: try Platform(os: "linux", arch: "arm", arm: "5"))),
            ("arm64", with(platform: try Platform(os: "linux", arch: "arm64"))),
            ("freebsd", with(platform: try Platform(os: "freebsd", arch: "arm", arm: "6"))),
            ("caddy", with(caddy: try Self.v("v2.8.0"))),
            ("go version", with(settings: BuildSettings(goVersion: "go1.23.6"))),
            ("tags", with(settings: BuildSettings(goVersion: "go1.23.5", tags: ["nobadger"]))),
            ("ldflags", with(settings: BuildSettings(goVersion: "go1.23.5", ldflags: "-s"))),
            ("trimpath", with(settings: BuildSettings(goVersion: "go1.23.5", trimpath: false))),
            ("plugin version", with(plugins: [try Self.multi(), ResolvedModule(path: hello.path, module: hello.module, version: try Self.v("v0.1.0"))])),
            ("plugin removed", with(plugins: [try Self.multi()])),
            ("no plugins", with(plugins: [])),
            ("replacement", with(plugins: [
                try Self.multi(),
                ResolvedModule(path: hello.path, module: hello.module, version: hello.version, replacement: try Self.replacement("github.com/proxfork/hello@v0.2.0")),
            ])),
            ("module of the package", with(plugins: [try Self.hello(), ResolvedModule(path: "github.com/proxfixture/multi/handlers", module: "github.com/proxfixture/multi/handlers", version: try Self.v("v1.0.0"))])),
        ]
        var seen: [CacheKey: String] = [base.cacheKey: "base"]
        for (name, build) in variants {
            #expect(build.cacheKey != base.cacheKey, "\(name) must change the key")
            if let other = seen[build.cacheKey] { Issue.record("\(name) has the same key as \(other)") }
            seen[build.cacheKey] = name
        }
    }

    @Test("the key is stable: equal builds give equal keys")
    func stable() throws {
        #expect(try Self.goldenBuild().cacheKey == Self.goldenBuild().cacheKey)
    }

    @Test("CacheKey(hex:) accepts exactly 64 lower-case hex digits")
    func hexValidation() throws {
        let good = String(repeating: "0123456789abcdef", count: 4)
        #expect(CacheKey(hex: good)?.hex == good)
        #expect(CacheKey(hex: good.uppercased()) == nil)
        #expect(CacheKey(hex: String(good.dropLast())) == nil)
        #expect(CacheKey(hex: good + "0") == nil)
        #expect(CacheKey(hex: String(good.dropLast()) + "g") == nil)
        #expect(CacheKey(hex: "") == nil)
        #expect(CacheKey(hex: "../" + String(good.dropFirst(3))) == nil)
        let key = try Self.goldenBuild().cacheKey
        #expect(CacheKey(hex: key.hex) == key)
    }

    @Test("CacheKey is Codable as its hex string and decoding validates")
    func keyCodable() throws {
        let key = try Self.goldenBuild().cacheKey
        let data = try JSONEncoder().encode([key])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(key.hex)\"]")
        #expect(try JSONDecoder().decode([CacheKey].self, from: data) == [key])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CacheKey].self, from: Data(#"["ABC"]"#.utf8)) }
    }

    @Test("ResolvedBuild round-trips through JSON with the same key")
    func buildCodable() throws {
        let build = try Self.goldenBuild()
        let decoded = try JSONDecoder().decode(ResolvedBuild.self, from: JSONEncoder().encode(build))
        #expect(decoded == build)
        #expect(decoded.cacheKey == build.cacheKey)
    }

    @Test("hexString is lower-case hex of every byte")
    func hexString() {
        #expect([UInt8]([0x00, 0x09, 0x0a, 0x7f, 0x80, 0xff]).hexString == "00090a7f80ff")
        #expect((0...255).map { UInt8($0) }.hexString.count == 512)
    }
}
