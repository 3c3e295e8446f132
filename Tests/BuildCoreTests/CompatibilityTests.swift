import BuildCore
import Foundation
import Testing

/// What a finished build teaches about its plugins: which module the compiler blamed, and
/// how the counts read back (issue 15).
@Suite struct CompatibilityTests {
    @Test(arguments: [
        // Prox's scrubbed module cache, as its logs show it.
        ("# github.com/proxfixture/broken\n$GOMODCACHE/github.com/proxfixture/broken@v0.1.0/broken.go:27:13: cannot use \"x\" as int value",
         "github.com/proxfixture/broken", "v0.1.0", "broken.go:27:13: cannot use \"x\" as int value"),
        // The go command's own default cache, and a case-escaped module path.
        ("/home/john.doe/go/pkg/mod/github.com/!prox!fixture/!upper!case@v1.0.0/sub/x.go:3: undefined: y",
         "github.com/ProxFixture/UpperCase", "v1.0.0", "sub/x.go:3: undefined: y"),
        // -trimpath's form, after lines that are not errors.
        ("go: downloading x\nnote: module requires Go 1.22\ngithub.com/caddy-dns/cloudflare@v0.0.0-20240703190432-89f16b99c18e/cloudflare.go:12:2: undefined: libdns.X",
         "github.com/caddy-dns/cloudflare", "v0.0.0-20240703190432-89f16b99c18e", "cloudflare.go:12:2: undefined: libdns.X"),
    ])
    func theCompilerBlamesTheModuleWhoseFileItNames(output: String, module: String, version: String, line: String) throws {
        let blame = try #require(CompilerBlame.find(in: output))
        #expect(blame == CompilerBlame(module: module, version: version, line: line))
    }

    @Test func outputWithoutAModuleFileBlamesNoOne() {
        #expect(CompilerBlame.find(in: "./main.go:5:2: undefined: caddy") == nil)
        #expect(CompilerBlame.find(in: "go: github.com/x/y@v1.0.0: reading https://proxy/...: 404 Not Found") == nil)
        #expect(CompilerBlame.find(in: "signal: killed") == nil)
        #expect(CompilerBlame.find(in: "$GOMODCACHE/github.com/x/y@notaversion/a.go:1:1: bad") == nil)
        #expect(CompilerBlame.find(in: "$GOMODCACHE/github.com/!X/y@v1.0.0/a.go:1:1: a bad escape") == nil)
    }

    static func build(_ plugins: [(String, String)], caddy: String = "v2.8.4") throws -> ResolvedBuild {
        ResolvedBuild(
            platform: try Platform(os: "linux", arch: "amd64", arm: nil), caddyVersion: try #require(SemanticVersion(caddy)),
            plugins: try plugins.map { ResolvedModule(path: $0.0, module: $0.0, version: try #require(SemanticVersion($0.1))) },
            settings: BuildSettings(goVersion: "go1.23.5"))
    }

    @Test func aBuildTeachesAboutThePluginsItCanSpeakFor() throws {
        let build = try Self.build([("github.com/a/one", "v1.0.0"), ("github.com/b/two", "v2.0.0")])
        let succeeded = CompatibilityFact.facts(of: build, error: nil)
        #expect(succeeded.map(\.path) == ["github.com/a/one", "github.com/b/two"])
        #expect(succeeded.allSatisfy { $0.succeeded && $0.caddyVersion == "v2.8.4" && $0.target == "linux/amd64" && $0.goVersion == "go1.23.5" })
        let blamed = CompatibilityFact.facts(
            of: build, error: ProxError(.buildFailed, "go build failed:\n$GOMODCACHE/github.com/b/two@v2.0.0/two.go:9:1: syntax error"))
        #expect(blamed.count == 1)
        #expect(blamed.first?.path == "github.com/b/two")
        #expect(blamed.first?.succeeded == false)
        #expect(blamed.first?.error == "two.go:9:1: syntax error")
        // Another version of the module than the build's, Caddy itself, a timeout: nothing.
        #expect(CompatibilityFact.facts(of: build, error: ProxError(.buildFailed, "$GOMODCACHE/github.com/b/two@v1.0.0/two.go:9:1: x")).isEmpty)
        #expect(CompatibilityFact.facts(of: build, error: ProxError(.buildFailed, "$GOMODCACHE/github.com/caddyserver/caddy/v2@v2.8.4/caddy.go:1:1: x")).isEmpty)
        #expect(CompatibilityFact.facts(of: build, error: ProxError(.buildTimedOut, "$GOMODCACHE/github.com/b/two@v2.0.0/two.go:9:1: x")).isEmpty)
    }

    @Test func summariesCountPerVersionAndCaddyAndSuggestTheNewestThatBuilt() throws {
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        func row(_ version: String, _ caddy: String, _ target: String, ok: Int, failed: Int, error: String? = nil, at offset: Double = 0) -> CompatibilityRow {
            CompatibilityRow(
                path: "github.com/x/p", version: version, caddyVersion: caddy, goVersion: "go1.23.5", target: target, succeeded: ok, failed: failed,
                lastError: error, lastSucceeded: failed == 0, lastAt: at + offset)
        }
        let summaries = CompatibilitySummary.summarize([
            row("v1.2.0", "v2.9.1", "linux/amd64", ok: 0, failed: 2, error: "old.go:1: x", at: 1),
            row("v1.2.0", "v2.9.1", "linux/arm64", ok: 0, failed: 1, error: "p.go:27: y", at: 5),
            row("v1.1.0", "v2.9.1", "linux/amd64", ok: 3, failed: 0),
            row("v1.0.0", "v2.9.1", "linux/amd64", ok: 1, failed: 0),
            row("v1.1.5", "v2.9.1", "linux/amd64", ok: 1, failed: 1),
            row("v1.2.0", "v2.8.4", "linux/amd64", ok: 4, failed: 0),
        ])
        #expect(summaries.map { "\($0.version) \($0.caddyVersion)" } == ["v1.2.0 v2.9.1", "v1.2.0 v2.8.4", "v1.1.5 v2.9.1", "v1.1.0 v2.9.1", "v1.0.0 v2.9.1"])
        let broken = summaries[0]
        #expect((broken.builds, broken.succeeded, broken.failed) == (3, 0, 3))
        #expect(broken.targets == ["linux/amd64", "linux/arm64"])
        #expect(broken.lastError == "p.go:27: y", "the newest failure's line")
        #expect(broken.warning == "github.com/x/p v1.2.0 failed with Caddy v2.9.1 on 3 of 3 builds: p.go:27: y")
        #expect(summaries[1].warning == nil)
        // v1.1.5 failed once: not "known to build"; v1.2.0 built with another Caddy only.
        #expect(CompatibilitySummary.suggestion(in: summaries, caddyVersion: "v2.9.1", instead: "v1.2.0") == "v1.1.0")
        #expect(CompatibilitySummary.suggestion(in: summaries, caddyVersion: "v2.7.6", instead: "v1.2.0") == nil)
    }
}
