import BuildCore
import Testing

@Suite("GoVersion, go.mod go/toolchain lines, and the toolchain rule")
struct ToolchainRuleTests {
    static func g(_ text: String) throws -> GoVersion { try #require(GoVersion(text)) }

    @Test("Go versions parse as go.mod, toolchain lines and GOVERSION write them")
    func parsing() throws {
        #expect(try Self.g("1.23.5") == .release(23, 5))
        #expect(try Self.g("go1.23.5") == .release(23, 5))
        #expect(try Self.g("go1.23.5 X:nocoverageredesign").toolchainName == "go1.23.5")
        #expect(try Self.g("1.22").patch == nil)
        #expect(try Self.g("1.21rc2").description == "1.21rc2")
        #expect(try Self.g("1.22").isRelease == false, "a language version is not a release from 1.21 on")
        #expect(try Self.g("1.20").isRelease == true, "before 1.21, 1.N is the release")
        for bad in ["", "go", "1", "2.0.0", "1.x", "1.23.", "1.23.5.1", "1.023", "devel go1.24-abcdef", "1.23rc", "1.23alpha1", "go1.23/../x"] {
            #expect(GoVersion(bad) == nil, "\(bad) parsed")
        }
    }

    @Test("Go versions order as the go command orders them")
    func ordering() throws {
        let sorted = try ["1.21.1", "1.21rc2", "1.21", "1.21.0", "1.20", "1.21rc1", "1.9", "1.22.0", "1.21beta1"].map(Self.g).sorted()
        #expect(sorted.map(\.description) == ["1.9", "1.20", "1.21", "1.21beta1", "1.21rc1", "1.21rc2", "1.21.0", "1.21.1", "1.22.0"])
        #expect(try Self.g("1.23") < Self.g("1.23.0"))
        #expect(try Self.g("1.20") == Self.g("1.20") && Self.g("1.20") < Self.g("1.20.1"))
    }

    @Test("go.mod: the need is the higher of the go and toolchain lines; garbage is refused")
    func goModFiles() throws {
        let file = try #require(GoModFile("""
            // comment
            module github.com/caddyserver/caddy/v2 // trailing

            go 1.22.0

            toolchain go1.23.4

            require (
            \tgithub.com/x/y v1.0.0
            \tgo v0.0.0 // a module named go in a block is not the go line
            )
            godebug default=go1.21
            """))
        #expect(file.module == "github.com/caddyserver/caddy/v2")
        #expect(try file.go == Self.g("1.22.0"))
        #expect(try file.toolchain == Self.g("go1.23.4"))
        #expect(try file.need == Self.g("1.23.4"))
        #expect(file.requires.map { "\($0.path) \($0.version)" } == ["github.com/x/y v1.0.0", "go v0.0.0"])
        let single = try #require(GoModFile("module m\nrequire github.com/a/b v1.2.3 // indirect\nrequire (\n)\n"))
        #expect(single.requires.map { "\($0.path) \($0.version)" } == ["github.com/a/b v1.2.3"])
        #expect(GoModFile("module x\n")?.need == nil)
        #expect(GoModFile("module x\ntoolchain default\n")?.toolchain == nil)
        for garbage in ["", "<html><body>Not found</body></html>", "go 1.22\n", "module x\nrequire github.com/a/b latest\n", "module x\nrequire (\n\tgithub.com/a/b\n)\n", "module x\ngo one.two\n", "module x\ngo go1.22\n", "module x\ntoolchain 1.22\n", "module x\u{0}\n"] {
            #expect(GoModFile(garbage) == nil, "accepted \(garbage.debugDescription)")
        }
    }

    @Test("golang.org/toolchain's list: release versions for this host only")
    func toolchainList() throws {
        let list = [
            "v0.0.1-go1.21.0.linux-amd64", "v0.0.1-go1.21rc2.linux-amd64", "v0.0.1-go1.23.5.linux-amd64", "v0.0.1-go1.23.5.linux-arm64",
            "v0.0.1-go1.23.5.darwin-amd64", "v0.0.1-go1.22.12.linux-amd64", "v0.0.1-go1.24.0.linux-amd64.extra", "v0.0.2-go1.25.0.linux-amd64",
            "garbage",
        ]
        #expect(ToolchainModule.releases(inList: list, host: "linux-amd64").sorted().map(\.toolchainName) == ["go1.21.0", "go1.22.12", "go1.23.5"])
        #expect(ToolchainModule.moduleVersion(.release(23, 5), host: "linux-amd64") == "v0.0.1-go1.23.5.linux-amd64")
    }

    static func offer(local: [String], downloadable: [String] = [], downloads: Bool = true, pinned: String? = nil) throws -> ToolchainOffer {
        ToolchainOffer(
            local: try local.map(Self.g), downloadable: try downloadable.map(Self.g), downloadsAllowed: downloads,
            pinned: try pinned.map(Self.g), proxy: "file:///proxy"
        )
    }

    static func need(_ version: String, _ module: String = "github.com/caddyserver/caddy/v2@v2.10.0") throws -> GoRequirement {
        GoRequirement(version: try g(version), module: module)
    }

    @Test("the newest patch of the needed minor, local or downloadable; local wins a tie")
    func newestPatchOfTheNeededMinor() throws {
        let offer = try Self.offer(local: ["go1.22.12", "go1.23.5"], downloadable: ["go1.22.12", "go1.23.2", "go1.23.9", "go1.24.1"])
        let choice = try ToolchainRule.choose(need: Self.need("1.23.0"), offer: offer)
        #expect(choice.version.toolchainName == "go1.23.9")
        #expect(choice.source == .download)
        #expect(choice.reason.contains("needs go >= 1.23.0"))
        let old = try ToolchainRule.choose(need: Self.need("1.22"), offer: offer)
        #expect(old.version.toolchainName == "go1.22.12", "never a newer minor when the needed one exists")
        #expect(old.source == .local)
    }

    @Test("a needed minor that is missing (or too old) moves to the lowest minor above, never below")
    func lowestMinorAbove() throws {
        let offer = try Self.offer(local: ["go1.22.12"], downloadable: ["go1.23.5", "go1.24.0", "go1.24.3"])
        #expect(try ToolchainRule.choose(need: Self.need("1.21"), offer: offer).version.toolchainName == "go1.22.12")
        #expect(try ToolchainRule.choose(need: Self.need("1.16"), offer: offer).version.toolchainName == "go1.22.12")
        // go1.23.7 is needed but the proxy has only go1.23.5: the next minor, not an older patch.
        #expect(try ToolchainRule.choose(need: Self.need("1.23.7"), offer: offer).version.toolchainName == "go1.24.3")
    }

    @Test("nothing new enough is toolchainUnavailable naming the module, the version and the fix")
    func nothingNewEnough() throws {
        let off = try Self.offer(local: ["go1.22.12"], downloadable: ["go1.23.5"], downloads: false)
        let error = #expect(throws: ProxError.self) { try ToolchainRule.choose(need: Self.need("1.23.0"), offer: off) }
        #expect(error?.kind == .toolchainUnavailable)
        #expect(error?.message.contains("github.com/caddyserver/caddy/v2@v2.10.0 needs go >= 1.23.0") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("--toolchain-download") == true)
        #expect(error?.message.contains("go1.22.12") == true)
        let none = try Self.offer(local: ["go1.22.12"], downloadable: [])
        let second = #expect(throws: ProxError.self) { try ToolchainRule.choose(need: Self.need("1.25.0"), offer: none) }
        #expect(second?.message.contains("golang.org/toolchain") == true, "\(second?.message ?? "")")
    }

    @Test("no go line anywhere: the default toolchain; a pin wins unless the need is newer")
    func defaultAndPinned() throws {
        let offer = try Self.offer(local: ["go1.22.12", "go1.23.5"], downloadable: ["go1.24.0"])
        #expect(try ToolchainRule.choose(need: nil, offer: offer).version.toolchainName == "go1.22.12")
        var pinned = offer
        pinned.pinned = try Self.g("go1.24.0")
        let choice = try ToolchainRule.choose(need: Self.need("1.21"), offer: pinned)
        #expect(choice.version.toolchainName == "go1.24.0")
        #expect(choice.source == .download)
        pinned.pinned = try Self.g("go1.22.12")
        let error = #expect(throws: ProxError.self) { try ToolchainRule.choose(need: Self.need("1.23.0"), offer: pinned) }
        #expect(error?.message.contains("--go-version") == true)
    }

    @Test("a GOPROXY shown in messages never carries credentials")
    func displayedProxy() {
        #expect(GoProxyFormat.displayed("https://user:s3cret@proxy.corp/go,direct") == "https://***@proxy.corp/go,direct")
        #expect(GoProxyFormat.displayed("https://a:b@x.example|https://c@y.example/p,off") == "https://***@x.example|https://***@y.example/p,off")
        #expect(GoProxyFormat.displayed("file:///srv/proxy,https://proxy.golang.org") == "file:///srv/proxy,https://proxy.golang.org")
    }
}
