import BuildCore
import GoProxyClient
import Foundation
import ProxTestSupport
import Testing

@Suite("VersionResolver (fixture proxy)")
struct VersionResolverTests {
    static func resolver() throws -> VersionResolver {
        VersionResolver(proxy: try ModuleProxy(goproxy: try Fixture.paths().goproxy))
    }

    static func v(_ text: String) throws -> SemanticVersion { try #require(SemanticVersion(text)) }

    @Test("latest Caddy is the highest release, not the pre-release")
    func latestCaddy() async throws {
        let resolved = try await Self.resolver().resolve(try ModuleSpec(path: BuildRequest.caddyModulePath))
        #expect(resolved.version == (try Self.v("v2.8.4")))
        #expect(resolved.module == BuildRequest.caddyModulePath)
        #expect(resolved.path == BuildRequest.caddyModulePath)
    }

    @Test("an exact pre-release is used when asked for")
    func exactPrerelease() async throws {
        let spec = try ModuleSpec(parsing: "github.com/caddyserver/caddy/v2@v2.9.0-beta.1")
        let resolved = try await Self.resolver().resolve(spec)
        #expect(resolved.version.description == "v2.9.0-beta.1")
    }

    @Test("hello latest is v0.2.0 (v0.3.0-rc.1 is a pre-release); pinned versions are kept")
    func hello() async throws {
        let resolver = try Self.resolver()
        #expect(try await resolver.resolve(try ModuleSpec(parsing: "github.com/proxfixture/hello")).version.description == "v0.2.0")
        #expect(try await resolver.resolve(try ModuleSpec(parsing: "github.com/proxfixture/hello@latest")).version.description == "v0.2.0")
        #expect(try await resolver.resolve(try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.1.0")).version.description == "v0.1.0")
        #expect(try await resolver.resolve(try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.3.0-rc.1")).version.description == "v0.3.0-rc.1")
    }

    @Test("a module path with upper-case letters resolves (proxy case escaping)")
    func upperCase() async throws {
        let resolved = try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/ProxFixture/UpperCase"))
        #expect(resolved.path == "github.com/ProxFixture/UpperCase")
        #expect(resolved.module == "github.com/ProxFixture/UpperCase")
        #expect(resolved.version.description == "v1.0.0")
    }

    @Test("a v2+ version given without the /v2 suffix gets it (semantic import versioning)")
    func majorSuffixAdded() async throws {
        let resolved = try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/majortwo@v2.1.0"))
        #expect(resolved.path == "github.com/proxfixture/majortwo/v2")
        #expect(resolved.module == "github.com/proxfixture/majortwo/v2")
        #expect(resolved.version.description == "v2.1.0")
    }

    @Test("the /v2 path itself resolves to its latest release")
    func majorPathLatest() async throws {
        let resolved = try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/majortwo/v2"))
        #expect(resolved.path == "github.com/proxfixture/majortwo/v2")
        #expect(resolved.version.description == "v2.1.0")
        let pinned = try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/majortwo/v2@v2.0.0"))
        #expect(pinned.path == "github.com/proxfixture/majortwo/v2")
        #expect(pinned.version.description == "v2.0.0")
    }

    @Test("a package inside a module resolves to the module that provides it")
    func subpackage() async throws {
        let resolved = try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/multi/handlers"))
        #expect(resolved.path == "github.com/proxfixture/multi/handlers")
        #expect(resolved.module == "github.com/proxfixture/multi")
        #expect(resolved.version.description == "v1.0.0")
        let pinned = try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/multi/handlers@v1.0.0"))
        #expect(pinned.module == "github.com/proxfixture/multi")
    }

    @Test("an unknown module is moduleNotFound")
    func unknownModule() async throws {
        let error = await #expect(throws: ProxError.self) {
            try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/does-not-exist"))
        }
        #expect(error?.kind == .moduleNotFound)
        #expect(error?.message.contains("github.com/proxfixture/does-not-exist") == true)
    }

    @Test("an unknown version of a known module is moduleNotFound")
    func unknownVersion() async throws {
        let error = await #expect(throws: ProxError.self) {
            try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.9.9"))
        }
        #expect(error?.kind == .moduleNotFound)
        #expect(error?.message.contains("github.com/proxfixture/hello@v0.9.9") == true)
        // A v2+ version is looked up under its /vN path, and the message says so.
        let major = await #expect(throws: ProxError.self) {
            try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/proxfixture/hello@v9.9.9"))
        }
        #expect(major?.kind == .moduleNotFound)
        #expect(major?.message.contains("github.com/proxfixture/hello/v9@v9.9.9") == true)
        let caddy = await #expect(throws: ProxError.self) {
            try await Self.resolver().resolve(try ModuleSpec(parsing: "github.com/caddyserver/caddy/v2@v2.8.1"))
        }
        #expect(caddy?.kind == .moduleNotFound)
    }

    @Test("a replacement is carried through resolution unchanged")
    func replacementCarried() async throws {
        let spec = try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.1.0=github.com/proxfork/hello@v0.1.1")
        let resolver = try Self.resolver()
        let resolved = try await resolver.resolve(spec)
        #expect(resolved.version.description == "v0.1.0")
        #expect(resolved.replacement?.description == "github.com/proxfork/hello@v0.1.1")
        // A cached answer for the same path@version must not reuse another spec's replacement.
        let plain = try await resolver.resolve(try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.1.0"))
        #expect(plain.replacement == nil)
    }

    @Test("caddyVersions() lists every tag, newest first")
    func caddyVersions() async throws {
        let versions = try await Self.resolver().caddyVersions()
        #expect(versions.map(\.description) == ["v2.9.0-beta.1", "v2.8.4", "v2.8.0", "v2.7.6"])
    }

    @Test("a whole request resolves to a ResolvedBuild with sorted plugins and the settings given")
    func wholeRequest() async throws {
        let request = try BuildRequest(
            os: "linux", arch: "arm", arm: "6",
            packages: ["github.com/proxfixture/multi/handlers", "github.com/proxfixture/hello@v0.1.0", "github.com/proxfixture/majortwo@v2.0.0"],
            version: nil, caddyVersion: nil, policy: .init()
        )
        let settings = BuildSettings(goVersion: "go1.23.5")
        let build = try await Self.resolver().resolve(request, settings: settings)
        #expect(build.platform == request.platform)
        #expect(build.caddyVersion.description == "v2.8.4")
        #expect(build.settings == settings)
        #expect(build.plugins.map(\.description) == [
            "github.com/proxfixture/hello@v0.1.0",
            "github.com/proxfixture/majortwo/v2@v2.0.0",
            "github.com/proxfixture/multi/handlers@v1.0.0",
        ])
        #expect(build.plugins.map(\.module) == ["github.com/proxfixture/hello", "github.com/proxfixture/majortwo/v2", "github.com/proxfixture/multi"])

        let pinned = try BuildRequest(os: "linux", arch: "amd64", arm: nil, packages: [], version: "2.8.0", caddyVersion: nil, policy: .init())
        #expect(try await Self.resolver().resolve(pinned, settings: settings).caddyVersion.description == "v2.8.0")
    }

    @Test("one unknown plugin fails the whole request with moduleNotFound")
    func requestWithUnknownPlugin() async throws {
        let request = try BuildRequest(
            os: "linux", arch: "amd64", arm: nil, packages: ["github.com/proxfixture/hello", "github.com/proxfixture/nope"],
            version: nil, caddyVersion: nil, policy: .init()
        )
        let error = await #expect(throws: ProxError.self) { try await Self.resolver().resolve(request, settings: BuildSettings(goVersion: "go1.23.5")) }
        #expect(error?.kind == .moduleNotFound)
    }

    @Test("a module with only pre-releases must be asked for exactly")
    func onlyPrereleases() async throws {
        let root = Fixture.temporaryDirectory("prox-pre-proxy")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/example.com/pre/@v", withIntermediateDirectories: true)
        try Data("v1.0.0-rc.1\nv1.0.0-rc.2\n".utf8).write(to: URL(fileURLWithPath: root + "/example.com/pre/@v/list"))
        let resolver = VersionResolver(proxy: try ModuleProxy(goproxy: "file://" + root))
        let error = await #expect(throws: ProxError.self) { try await resolver.resolve(try ModuleSpec(parsing: "example.com/pre")) }
        #expect(error?.kind == .moduleNotFound)
        #expect(error?.message.contains("only pre-releases") == true)
        #expect(error?.message.contains("example.com/pre@v1.0.0-rc.2") == true)
    }

    @Test("a module with no tags resolves through @latest (a pseudo-version)")
    func untaggedModule() async throws {
        let root = Fixture.temporaryDirectory("prox-pseudo-proxy")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/example.com/untagged/@v", withIntermediateDirectories: true)
        try Data("".utf8).write(to: URL(fileURLWithPath: root + "/example.com/untagged/@v/list"))
        try Data(#"{"Version":"v0.0.0-20240102150405-abcdef123456","Time":"2024-01-02T15:04:05Z"}"#.utf8)
            .write(to: URL(fileURLWithPath: root + "/example.com/untagged/@latest"))
        let resolver = VersionResolver(proxy: try ModuleProxy(goproxy: "file://" + root))
        let resolved = try await resolver.resolve(try ModuleSpec(parsing: "example.com/untagged"))
        #expect(resolved.version.isPseudoVersion)
        #expect(resolved.version.description == "v0.0.0-20240102150405-abcdef123456")
    }
}
