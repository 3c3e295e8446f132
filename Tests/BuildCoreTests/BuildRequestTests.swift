import BuildCore
import Foundation
import Testing

@Suite("BuildRequest")
struct BuildRequestTests {
    /// The download API's parameters, with defaults for the ones a test does not care about.
    static func request(
        os: String? = "linux", arch: String? = "amd64", arm: String? = nil, packages: [String] = [],
        version: String? = nil, caddyVersion: String? = nil, allowReplacements: Bool = false
    ) throws(ProxError) -> BuildRequest {
        try BuildRequest(
            os: os, arch: arch, arm: arm, packages: packages, version: version, caddyVersion: caddyVersion,
            policy: .init(allowReplacements: allowReplacements)
        )
    }

    @Test("a plain request: platform, no version, no plugins")
    func plain() throws {
        let request = try Self.request()
        #expect(request.platform == (try Platform(os: "linux", arch: "amd64")))
        #expect(request.caddyVersion == nil)
        #expect(request.plugins.isEmpty)
    }

    @Test("platform values are validated, arm included")
    func platform() throws {
        #expect(try Self.request(arch: "arm", arm: "6").platform.arm == 6)
        #expect(try Self.request(arch: "arm").platform.arm == 7)
        let missing = #expect(throws: ProxError.self) { try Self.request(os: nil) }
        #expect(missing?.kind == .invalidRequest)
        #expect(missing?.message.contains("missing os") == true)
        #expect(throws: ProxError.self) { try Self.request(arch: nil) }
        #expect(throws: ProxError.self) { try Self.request(arch: "amd64", arm: "7") }
        #expect(throws: ProxError.self) { try Self.request(arch: "arm", arm: "9") }
    }

    @Test("plugins are parsed and kept in the order given")
    func pluginsInOrder() throws {
        let request = try Self.request(packages: [
            "github.com/proxfixture/withdep", "github.com/proxfixture/hello@v0.1.0", "github.com/ProxFixture/UpperCase",
        ])
        #expect(request.plugins.map(\.path) == ["github.com/proxfixture/withdep", "github.com/proxfixture/hello", "github.com/ProxFixture/UpperCase"])
        #expect(request.plugins[1].version == SemanticVersion("v0.1.0"))
        #expect(request.plugins[0].version == nil)
    }

    @Test("the Caddy version comes from version=", arguments: ["v2.8.4", "2.8.4"])
    func versionParameter(text: String) throws {
        #expect(try Self.request(version: text).caddyVersion == SemanticVersion("v2.8.4"))
    }

    @Test("the Caddy version comes from caddy_version=")
    func caddyVersionParameter() throws {
        #expect(try Self.request(caddyVersion: "v2.8.0").caddyVersion == SemanticVersion("v2.8.0"))
        #expect(try Self.request(caddyVersion: "v2.9.0-beta.1").caddyVersion == SemanticVersion("v2.9.0-beta.1"))
    }

    @Test("the Caddy version comes from p=github.com/caddyserver/caddy/v2@vX, which is not a plugin")
    func caddyAsPackage() throws {
        let request = try Self.request(packages: ["github.com/caddyserver/caddy/v2@v2.7.6", "github.com/proxfixture/hello"])
        #expect(request.caddyVersion == SemanticVersion("v2.7.6"))
        #expect(request.plugins.map(\.path) == ["github.com/proxfixture/hello"])
        // Unpinned Caddy as a package is simply "the latest Caddy".
        let unpinned = try Self.request(packages: ["github.com/caddyserver/caddy/v2"])
        #expect(unpinned.caddyVersion == nil)
        #expect(unpinned.plugins.isEmpty)
    }

    @Test("Caddy's sub-packages or a Caddy replacement are refused")
    func caddySubpackages() {
        for text in ["github.com/caddyserver/caddy/v2/modules/standard", "github.com/caddyserver/caddy/v2@v2.8.4=github.com/fork/caddy/v2@v2.8.4"] {
            let error = #expect(throws: ProxError.self) { try Self.request(packages: [text], allowReplacements: true) }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.message.contains("Caddy can only be pinned as p=github.com/caddyserver/caddy/v2@vX.Y.Z") == true, "\(text)")
        }
    }

    @Test("all three ways agreeing is fine")
    func agreeingVersions() throws {
        let request = try Self.request(packages: ["github.com/caddyserver/caddy/v2@v2.8.4"], version: "2.8.4", caddyVersion: "v2.8.4")
        #expect(request.caddyVersion == SemanticVersion("v2.8.4"))
    }

    struct Conflict: Sendable, CustomTestStringConvertible {
        let version: String?
        let caddyVersion: String?
        let packages: [String]
        var testDescription: String { "version=\(version ?? "-") caddy_version=\(caddyVersion ?? "-") p=\(packages)" }
    }

    @Test(
        "conflicting Caddy versions are an invalid request naming both",
        arguments: [
            Conflict(version: "v2.8.0", caddyVersion: "v2.8.4", packages: []),
            Conflict(version: "v2.8.0", caddyVersion: nil, packages: ["github.com/caddyserver/caddy/v2@v2.8.4"]),
            Conflict(version: nil, caddyVersion: "v2.8.0", packages: ["github.com/caddyserver/caddy/v2@v2.8.4"]),
            Conflict(version: nil, caddyVersion: nil, packages: ["github.com/caddyserver/caddy/v2@v2.8.0", "github.com/caddyserver/caddy/v2@v2.8.4"]),
        ]
    )
    func conflicting(conflict: Conflict) {
        let error = #expect(throws: ProxError.self) {
            try Self.request(packages: conflict.packages, version: conflict.version, caddyVersion: conflict.caddyVersion)
        }
        #expect(error?.kind == .invalidRequest)
        let message = error?.message ?? ""
        #expect(message.contains("conflicting Caddy versions"))
        #expect(message.contains("v2.8.0") && message.contains("v2.8.4"), "\(message)")
    }

    @Test("latest (and empty) is treated as absent, so it never conflicts")
    func latestIsAbsent() throws {
        #expect(try Self.request(version: "latest").caddyVersion == nil)
        #expect(try Self.request(version: "").caddyVersion == nil)
        #expect(try Self.request(version: "latest", caddyVersion: "v2.8.0").caddyVersion == SemanticVersion("v2.8.0"))
        #expect(try Self.request(packages: ["github.com/caddyserver/caddy/v2@v2.8.4"], version: "latest", caddyVersion: "").caddyVersion == SemanticVersion("v2.8.4"))
        #expect(try Self.request(packages: ["github.com/caddyserver/caddy/v2@latest"], version: "v2.8.0").caddyVersion == SemanticVersion("v2.8.0"))
    }

    @Test("a bad Caddy version is an invalid request")
    func badCaddyVersion() {
        for (version, caddyVersion) in [("v2.x", nil), (nil, "v2"), ("v2.8", nil), ("-master", nil)] as [(String?, String?)] {
            let error = #expect(throws: ProxError.self) { try Self.request(version: version, caddyVersion: caddyVersion) }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.message.contains("bad version") == true)
        }
    }

    @Test("duplicate plugins are de-duplicated, first position kept")
    func duplicates() throws {
        let request = try Self.request(packages: [
            "github.com/proxfixture/hello@v0.1.0", "github.com/proxfixture/withdep", "github.com/proxfixture/hello@v0.1.0",
            "github.com/proxfixture/withdep@latest", "github.com/proxfixture/hello@0.1.0",
        ])
        #expect(request.plugins.count == 2)
        #expect(request.plugins.map(\.path) == ["github.com/proxfixture/hello", "github.com/proxfixture/withdep"])
        #expect(request.plugins[0].version == SemanticVersion("v0.1.0"))
    }

    @Test("the same plugin with different versions is rejected")
    func conflictingDuplicates() {
        for second in ["github.com/proxfixture/hello@v0.2.0", "github.com/proxfixture/hello"] {
            let error = #expect(throws: ProxError.self) {
                try Self.request(packages: ["github.com/proxfixture/hello@v0.1.0", second])
            }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.message.contains("given twice with different versions") == true)
            #expect(error?.message.contains("github.com/proxfixture/hello") == true)
        }
    }

    @Test("replacements are refused unless the policy allows them")
    func replacementsNeedPolicy() throws {
        let text = "github.com/proxfixture/hello@v0.1.0=github.com/proxfork/hello@v0.1.1"
        let error = #expect(throws: ProxError.self) { try Self.request(packages: [text]) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("replacements are disabled") == true)
        #expect(BuildRequest.Policy() == BuildRequest.Policy(allowReplacements: false))

        let allowed = try Self.request(packages: [text], allowReplacements: true)
        #expect(allowed.plugins.count == 1)
        #expect(allowed.plugins[0].replacement?.description == "github.com/proxfork/hello@v0.1.1")
    }

    @Test("filesystem replacements stay refused even when replacements are allowed")
    func filesystemReplacementRefused() {
        let error = #expect(throws: ProxError.self) { try Self.request(packages: ["github.com/a/b=/tmp/b"], allowReplacements: true) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("filesystem path") == true)
    }

    @Test("at most maxPlugins packages")
    func tooManyPackages() throws {
        let max = BuildRequest.maxPlugins
        let exactly = (0..<max).map { "github.com/proxfixture/p\($0)" }
        #expect(try Self.request(packages: exactly).plugins.count == max)
        let error = #expect(throws: ProxError.self) { try Self.request(packages: exactly + ["github.com/proxfixture/one-more"]) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("too many packages (\(max + 1))") == true)
        #expect(error?.message.contains("at most \(max)") == true)
    }

    @Test("a bad package anywhere in the list fails the request")
    func badPackage() {
        let error = #expect(throws: ProxError.self) {
            try Self.request(packages: ["github.com/proxfixture/hello", "http.handlers.foo"])
        }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("Caddy module ID") == true)
    }

    @Test("Codable round trip")
    func codable() throws {
        let request = try Self.request(arch: "arm", arm: "5", packages: ["github.com/proxfixture/hello@v0.1.0"], version: "v2.8.4")
        #expect(try JSONDecoder().decode(BuildRequest.self, from: JSONEncoder().encode(request)) == request)
    }
}
