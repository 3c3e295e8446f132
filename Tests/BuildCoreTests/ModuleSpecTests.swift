import BuildCore
import Foundation
import Testing

@Suite("ModuleSpec")
struct ModuleSpecTests {
    @Test("a bare path has no version and no replacement")
    func barePath() throws {
        let spec = try ModuleSpec(parsing: "github.com/caddy-dns/cloudflare")
        #expect(spec.path == "github.com/caddy-dns/cloudflare")
        #expect(spec.version == nil)
        #expect(spec.replacement == nil)
        #expect(spec.description == "github.com/caddy-dns/cloudflare")
    }

    @Test("path@version")
    func pathAndVersion() throws {
        let spec = try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.2.0")
        #expect(spec.path == "github.com/proxfixture/hello")
        #expect(spec.version == SemanticVersion("v0.2.0"))
        #expect(spec.replacement == nil)
        #expect(spec.description == "github.com/proxfixture/hello@v0.2.0")
    }

    @Test("a version without v is normalized; empty and latest mean no version")
    func versionForms() throws {
        #expect(try ModuleSpec(parsing: "github.com/a/b@1.2.3").version?.description == "v1.2.3")
        #expect(try ModuleSpec(parsing: "github.com/a/b@latest").version == nil)
        #expect(try ModuleSpec(parsing: "github.com/a/b@").version == nil)
        #expect(try ModuleSpec(parsing: "github.com/a/b@latest") == ModuleSpec(parsing: "github.com/a/b"))
        let pseudo = try ModuleSpec(parsing: "github.com/a/b@v0.0.0-20240102150405-abcdef123456")
        #expect(pseudo.version?.isPseudoVersion == true)
    }

    @Test("path@version=replacement@version: split on the first =, then the last @")
    func replacement() throws {
        let spec = try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.1.0=github.com/proxfork/hello@v0.1.1")
        #expect(spec.path == "github.com/proxfixture/hello")
        #expect(spec.version == SemanticVersion("v0.1.0"))
        let replacement = try #require(spec.replacement)
        #expect(replacement.path == "github.com/proxfork/hello")
        #expect(replacement.version == SemanticVersion("v0.1.1"))
        #expect(spec.description == "github.com/proxfixture/hello@v0.1.0=github.com/proxfork/hello@v0.1.1")
        #expect(try ModuleSpec(parsing: spec.description) == spec)

        // No version on the left side.
        let noLeftVersion = try ModuleSpec(parsing: "github.com/a/b=github.com/c/d@v1.0.0")
        #expect(noLeftVersion.path == "github.com/a/b")
        #expect(noLeftVersion.version == nil)
        #expect(noLeftVersion.replacement?.description == "github.com/c/d@v1.0.0")
    }

    @Test("only the first = splits: an = inside the replacement is part of it (and then invalid)")
    func firstEquals() {
        let error = #expect(throws: ProxError.self) { try ModuleSpec(parsing: "github.com/a/b=github.com/c/d=x@v1.0.0") }
        #expect(error?.kind == .invalidRequest)
        // The failure is about the replacement "github.com/c/d=x", not about the left side.
        #expect(error?.message.contains("replacement") == true)
        #expect(error?.message.contains("\"=\"") == true)
    }

    @Test("the last @ splits path and version")
    func lastAt() {
        // With the last @, "github.com/a@b/c" + "v1.0.0" is the split: the @ left in the path is rejected.
        let error = #expect(throws: ProxError.self) { try ModuleSpec(parsing: "github.com/a@b/c@v1.0.0") }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("\"github.com/a@b/c\"") == true)
        #expect(error?.message.contains("\"@\"") == true)
    }

    @Test("accepts valid module paths", arguments: [
        "github.com/caddy-dns/cloudflare", "github.com/ProxFixture/UpperCase", "github.com/proxfixture/majortwo/v2",
        "github.com/proxfixture/multi/handlers", "example.com/a_b/c~d/e.f", "gopkg.in/yaml.v3", "go.uber.org/zap",
    ])
    func acceptsValidPaths(path: String) throws {
        #expect(try ModuleSpec(parsing: path).path == path)
    }

    struct BadInput: Sendable, CustomTestStringConvertible {
        let input: String
        /// Substrings the message must contain: what was wrong and what to send instead.
        let mentions: [String]
        var testDescription: String { input }
    }

    static let badInputs: [BadInput] = [
        // URLs: suggest the path without the scheme.
        BadInput(input: "https://github.com/caddy-dns/cloudflare", mentions: ["is a URL", "without the scheme", "e.g. github.com/caddy-dns/cloudflare"]),
        BadInput(input: "http://github.com/caddy-dns/cloudflare.git", mentions: ["is a URL", "e.g. github.com/caddy-dns/cloudflare"]),
        BadInput(input: "HTTPS://github.com/caddy-dns/cloudflare", mentions: ["is a URL", "e.g. github.com/caddy-dns/cloudflare"]),
        BadInput(input: "https://github.com/caddy-dns/cloudflare@v1.0.0", mentions: ["is a URL", "e.g. github.com/caddy-dns/cloudflare"]),
        // Caddy module IDs.
        BadInput(input: "http.handlers.foo", mentions: ["looks like a Caddy module ID", "/api/packages", "e.g. github.com/"]),
        BadInput(input: "dns.providers.cloudflare", mentions: ["looks like a Caddy module ID", "send the package that provides it"]),
        BadInput(input: "tls.issuance.acme", mentions: ["looks like a Caddy module ID"]),
        BadInput(input: "http.handlers.rate_limit", mentions: ["looks like a Caddy module ID"]),
        // Characters that do not belong in a module path (shell metacharacters included).
        BadInput(input: "github.com/foo bar", mentions: ["contains a space", "letters, digits and - . _ ~"]),
        BadInput(input: "github.com/foo;rm -rf", mentions: ["\";\"", "letters, digits and - . _ ~"]),
        BadInput(input: "github.com/$(reboot)", mentions: ["\"$\"", "letters, digits and - . _ ~"]),
        BadInput(input: "github.com/`id`", mentions: ["\"`\"", "letters, digits and - . _ ~"]),
        BadInput(input: "github.com/foo|bar", mentions: ["\"|\""]),
        BadInput(input: "github.com/foo&bar", mentions: ["\"&\""]),
        BadInput(input: "github.com/foo>bar", mentions: ["\">\""]),
        BadInput(input: "github.com/foo\nbar", mentions: ["\"?\""]),
        BadInput(input: "github.com/foo'bar", mentions: ["\"'\""]),
        BadInput(input: "github.com/fo\u{00F6}", mentions: ["letters, digits and - . _ ~"]),
        // Path traversal and empty elements.
        BadInput(input: "github.com/foo/../bar", mentions: ["\"..\"", "plain module path"]),
        BadInput(input: "github.com/..", mentions: ["\"..\""]),
        BadInput(input: "github.com/./foo", mentions: ["\"..\" or \".\""]),
        BadInput(input: "/github.com/foo", mentions: ["empty element", "remove leading, trailing or doubled slashes"]),
        BadInput(input: "github.com/foo/", mentions: ["empty element"]),
        BadInput(input: "github.com//foo", mentions: ["empty element"]),
        BadInput(input: "github.com/.hidden", mentions: ["starts or ends with a dot"]),
        // Domain rules.
        BadInput(input: "caddy-dns/cloudflare", mentions: ["has no domain", "e.g. github.com/caddy-dns/cloudflare"]),
        BadInput(input: "cloudflare", mentions: ["has no domain", "e.g. github.com/cloudflare"]),
        BadInput(input: "GitHub.com/foo/bar", mentions: ["domain must be lower case"]),
        BadInput(input: "-github.com/foo", mentions: ["domain must be lower case"]),
        BadInput(input: "git_hub.com/foo", mentions: ["domain must be lower case"]),
        // Versions: short and malformed versions, and names no branch or commit can have.
        BadInput(input: "github.com/foo/bar@-master", mentions: ["bad version \"-master\"", "v1.2.3", "branch name or commit hash"]),
        BadInput(input: "github.com/foo/bar@feature/x", mentions: ["bad version"]),
        BadInput(input: "github.com/foo/bar@v2.x", mentions: ["bad version \"v2.x\""]),
        BadInput(input: "github.com/foo/bar@upgrade", mentions: ["bad version \"upgrade\""]),
        BadInput(input: "github.com/foo/bar@v1", mentions: ["bad version \"v1\"", "such as v1.2.3"]),
        BadInput(input: "github.com/foo/bar@1.2.3.4", mentions: ["bad version \"1.2.3.4\"", "such as v1.2.3"]),
        BadInput(input: "github.com/foo/bar@v01.2.3", mentions: ["bad version \"v01.2.3\"", "such as v1.2.3"]),
        BadInput(input: "github.com/foo/bar@abc..def", mentions: ["bad version", "pseudo-version"]),
        // Filesystem replacements.
        BadInput(input: "github.com/foo/bar=/tmp/x", mentions: ["is a filesystem path", "only module replacements"]),
        BadInput(input: "github.com/foo/bar=./x", mentions: ["is a filesystem path", "path=other/module@v1.2.3"]),
        BadInput(input: "github.com/foo/bar=../x", mentions: ["is a filesystem path"]),
        BadInput(input: "github.com/foo/bar=~/x", mentions: ["is a filesystem path"]),
        BadInput(input: "github.com/foo/bar=file:///tmp/x", mentions: ["is a filesystem path"]),
        BadInput(input: "github.com/foo/bar=C:\\src\\x", mentions: ["is a filesystem path"]),
        // Replacements need an exact version and a valid path.
        BadInput(input: "github.com/foo/bar=github.com/fork/bar", mentions: ["needs an exact version", "github.com/foo/bar=github.com/fork/bar@v1.2.3"]),
        BadInput(input: "github.com/foo/bar=github.com/fork/bar@latest", mentions: ["needs an exact version, not latest", "@v1.2.3"]),
        BadInput(input: "github.com/foo/bar=github.com/fork/bar@main", mentions: ["bad version \"main\""]),
        BadInput(input: "github.com/foo/bar=fork/bar@v1.0.0", mentions: ["replacement", "has no domain"]),
        BadInput(input: "github.com/foo/bar=https://github.com/fork/bar@v1.0.0", mentions: ["is a URL", "e.g. github.com/fork/bar"]),
        // Empty and oversized input.
        BadInput(input: "", mentions: ["empty package", "p=<module path>"]),
        BadInput(input: "@v1.2.3", mentions: ["empty module path"]),
        BadInput(input: "github.com/" + String(repeating: "a", count: 600), mentions: ["too long"]),
        BadInput(input: "github.com/" + String(repeating: "a", count: 300), mentions: ["too long", "256 bytes"]),
    ]

    @Test("bad inputs are invalid requests whose message names the fix", arguments: badInputs)
    func rejects(bad: BadInput) {
        let error = #expect(throws: ProxError.self) { try ModuleSpec(parsing: bad.input) }
        #expect(error?.kind == .invalidRequest)
        let message = error?.message ?? ""
        for mention in bad.mentions {
            #expect(message.contains(mention), "message for \(bad.input.debugDescription) lacks \(mention.debugDescription): \(message)")
        }
    }

    @Test("messages never echo control characters or unbounded input")
    func messagesAreSafe() {
        let nasty = "github.com/\u{1B}[31m" + String(repeating: "x", count: 200)
        let error = #expect(throws: ProxError.self) { try ModuleSpec(parsing: nasty) }
        let message = error?.message ?? ""
        #expect(!message.contains("\u{1B}"))
        #expect(!message.contains(String(repeating: "x", count: 100)))
    }

    @Test("the memberwise initializer validates the path and the replacement")
    func memberwiseValidates() throws {
        #expect(throws: ProxError.self) { try ModuleSpec(path: "http.handlers.foo") }
        let v = try #require(SemanticVersion("v1.0.0"))
        let spec = try ModuleSpec(path: "github.com/a/b", version: v)
        #expect(spec.description == "github.com/a/b@v1.0.0")
    }

    @Test("Codable round trip")
    func codable() throws {
        let spec = try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.1.0=github.com/proxfork/hello@v0.1.1")
        #expect(try JSONDecoder().decode(ModuleSpec.self, from: JSONEncoder().encode(spec)) == spec)
    }
}

@Suite("Branches and commits (revisions)")
struct RevisionSpecTests {
    @Test("a branch or a commit is a revision, kept as given until the proxy resolves it", arguments: [
        ("github.com/foo/bar@master", "master"), ("github.com/foo/bar@a1b2c3d", "a1b2c3d"), ("github.com/foo/bar@release-2.x", "release-2.x"),
        ("github.com/foo/bar@1a2b3c4d5e6f", "1a2b3c4d5e6f"), ("github.com/foo/bar@main_v2", "main_v2"),
    ])
    func revisions(input: String, revision: String) throws {
        let spec = try ModuleSpec(parsing: input)
        #expect(spec.revision == revision)
        #expect(spec.version == nil)
        #expect(spec.description == input)
        #expect(spec.versionedPath == spec.path)
    }

    @Test("Caddy may be asked for at a branch; two different ones conflict")
    func caddyRevision() throws {
        let request = try BuildRequest(os: "linux", arch: "amd64", arm: nil, packages: [], version: "master", caddyVersion: nil, policy: .init())
        #expect(request.caddyRevision == "master")
        #expect(request.caddyVersion == nil)
        #expect(throws: ProxError.self) {
            try BuildRequest(
                os: "linux", arch: "amd64", arm: nil, packages: ["github.com/caddyserver/caddy/v2@v2.8.4"], version: "master", caddyVersion: nil,
                policy: .init()
            )
        }
    }
}
