import BuildCore
import CacheStore
import Foundation
import NIOHTTP1
import ProxCommands
import ProxTestSupport
import Testing

/// The right Go toolchain per build, end to end: a live proxhub whose host go is Debian's
/// go1.22, a fixture proxy that serves Debian's go1.23 as `golang.org/toolchain`, and Caddy
/// releases that need one or the other.
@Suite(.serialized) struct ToolchainTests {
    /// GOMODCACHE/GOCACHE shared by these tests (not the other suites': toolchains land here).
    static let goCacheRoot = Fixture.temporaryDirectory("prox-toolchain-gocache")

    static func startHub(
        goCacheRoot: String = ToolchainTests.goCacheRoot, _ configure: (inout HubConfiguration) -> Void = { _ in }
    ) async throws -> (LiveHub, Fixture.ToolchainPaths) {
        let paths = try Fixture.toolchainPaths()
        let hub = try await LiveHub.start(goExecutable: paths.oldGo, goCacheRoot: goCacheRoot) {
            $0.goproxy = paths.goproxy
            $0.packageEndpoint = paths.packageEndpoint
            configure(&$0)
        }
        return (hub, paths)
    }

    /// The toolchain a binary was built with, as `go version <file>` reads it.
    static func builtWith(_ body: [UInt8], go: String) throws -> String {
        let binary = try writeExecutable(body)
        let printed = try runProgram(go, ["version", binary])
        return printed.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? printed
    }

    static func removeModuleCache(_ root: String) {
        // The module cache is read-only on purpose; make it writable to remove it.
        _ = try? runProgram("/bin/chmod", ["-R", "u+w", root])
        try? FileManager.default.removeItem(atPath: root)
    }

    @Test("latest Caddy needs go1.23: two concurrent builds download go1.23.5 once, through the proxy, and build with it")
    func downloadsTheNeededToolchainOnce() async throws {
        let cache = Fixture.temporaryDirectory("prox-toolchain-fresh")
        defer { Self.removeModuleCache(cache) }
        let (hub, paths) = try await Self.startHub(goCacheRoot: cache)
        defer { Task { await hub.stop() } }

        let before = try await hub.get("/api/toolchains").json()["result"] as? [String: Any]
        #expect(before?["local"] as? [String] == [paths.oldVersion])
        #expect(before?["downloadable"] as? [String] == [paths.newVersion])
        #expect(before?["downloaded"] as? [String] == [])
        #expect(before?["downloads_allowed"] as? Bool == true)

        // Two keys for one target: the second build's standard library compiles from the first's cache.
        async let bare = hub.get("/api/download?os=linux&arch=amd64")
        async let hello = hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello")
        let replies = try await [bare, hello]
        for reply in replies {
            #expect(reply.status == 200, "\(reply.text.prefix(2000))")
            #expect(reply.header("X-Prox-Caddy-Version") == "v2.10.0", "the latest release of this proxy")
            #expect(reply.header("X-Prox-Go-Version") == paths.newVersion)
            #expect(try Self.builtWith(reply.body, go: paths.oldGo) == paths.newVersion, "go version <binary> must name the downloaded toolchain")
        }
        var downloads = 0
        for reply in replies {
            let id = try #require(reply.header("X-Prox-Build-Id"))
            let log = try await BuildLogTests.readEvents(hub, "/api/builds/\(id)/logs").raw
            downloads += log.components(separatedBy: "downloading \(paths.newVersion) (golang.org/toolchain@").count - 1
            #expect(
                log.contains("downloading \(paths.newVersion)") || log.contains("waiting for the download of \(paths.newVersion)")
                    || log.contains("using \(paths.newVersion) from the module cache"),
                "\(log.prefix(3000))"
            )
            let record = try await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any]
            #expect(record?["go_version"] as? String == paths.newVersion)
            let toolchain = record?["toolchain"] as? [String: Any]
            #expect(toolchain?["source"] as? String == "download")
            #expect(toolchain?["needs"] as? String == "go1.23.0")
            #expect(toolchain?["needed_by"] as? String == "github.com/caddyserver/caddy/v2@v2.10.0")
        }
        #expect(downloads == 1, "two builds needing \(paths.newVersion) at once must download it once")
        let after = try await hub.get("/api/toolchains").json()["result"] as? [String: Any]
        #expect(after?["downloaded"] as? [String] == [paths.newVersion])

        // A later build of another key finds it in the module cache.
        let later = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fwithdep")
        #expect(later.status == 200, "\(later.text.prefix(2000))")
        let laterLog = try await BuildLogTests.readEvents(hub, "/api/builds/\(try #require(later.header("X-Prox-Build-Id")))/logs").raw
        #expect(laterLog.contains("using \(paths.newVersion) from the module cache"), "\(laterLog.prefix(3000))")
    }

    @Test("old Caddy (go 1.22, a dependency that refuses Go 1.23) builds with the host's go1.22 although go1.23 is available")
    func oldCaddyKeepsItsOldGo() async throws {
        let (hub, paths) = try await Self.startHub()
        defer { Task { await hub.stop() } }
        let reply = try await hub.get("/api/download?os=linux&arch=amd64&version=v2.6.2")
        #expect(reply.status == 200, "\(reply.text.prefix(2000))")
        #expect(reply.header("X-Prox-Go-Version") == paths.oldVersion)
        #expect(try Self.builtWith(reply.body, go: paths.oldGo) == paths.oldVersion)
        let binary = try writeExecutable(reply.body)
        #expect(try runProgram(binary, ["version"]).hasPrefix("v2.6.2 "))

        // The fixture is honest: the same build pinned to go1.23 fails the way quic-go did.
        let (pinned, _) = try await Self.startHub { $0.goVersion = paths.newVersion }
        defer { Task { await pinned.stop() } }
        let broken = try await pinned.get("/api/download?os=linux&arch=amd64&version=v2.6.2")
        #expect(broken.status == 422)
        #expect(broken.text.contains("does not support Go 1.23"), "\(broken.text.prefix(2000))")
    }

    @Test("a plugin whose dependency needs go1.23 is planned with go1.23: the dependencies' go.mod files count too")
    func dependencyNeedsNewerGo() async throws {
        let (hub, paths) = try await Self.startHub { $0.allowUnlisted = true }
        defer { Task { await hub.stop() } }
        let reply = try await hub.get("/api/download?os=linux&arch=amd64&version=v2.8.4&p=github.com%2Fproxfixture%2Fneedsnew")
        #expect(reply.status == 200, "\(reply.text.prefix(2000))")
        #expect(reply.header("X-Prox-Go-Version") == paths.newVersion, "Caddy v2.8.4 and needsnew say go 1.21; newdep says 1.23.0")
        let modules = try runProgram(try writeExecutable(reply.body), ["list-modules"])
        #expect(modules.contains("http.handlers.needsnew"))
        let id = try #require(reply.header("X-Prox-Build-Id"))
        let toolchain = (try await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any])?["toolchain"] as? [String: Any]
        #expect(toolchain?["needed_by"] as? String == "github.com/proxfixture/newdep@v0.1.0")
        #expect(toolchain?["needs"] as? String == "go1.23.0")
    }

    @Test("--go A --go B with downloads off: the rule picks between the two local toolchains")
    func twoLocalToolchains() async throws {
        let (hub, paths) = try await Self.startHub {
            $0.goExecutables = [Fixture.oldGoRoot + "/bin/go", Fixture.newGoRoot + "/bin/go"]
            $0.toolchainDownload = false
        }
        defer { Task { await hub.stop() } }
        let listing = try await hub.get("/api/toolchains").json()["result"] as? [String: Any]
        #expect(listing?["local"] as? [String] == [paths.oldVersion, paths.newVersion])
        #expect(listing?["downloadable"] as? [String] == [])
        #expect(listing?["default"] as? String == paths.oldVersion)

        let latest = try await hub.get("/api/download?os=linux&arch=amd64")
        #expect(latest.status == 200, "\(latest.text.prefix(2000))")
        #expect(latest.header("X-Prox-Go-Version") == paths.newVersion, "v2.10.0 needs go 1.23.0")
        let older = try await hub.get("/api/download?os=linux&arch=amd64&version=v2.8.4")
        #expect(older.status == 200, "\(older.text.prefix(2000))")
        #expect(older.header("X-Prox-Go-Version") == paths.oldVersion, "v2.8.4 needs go 1.21: none here, so the lowest minor above")
        #expect(try Self.builtWith(older.body, go: paths.oldGo) == paths.oldVersion)
        #expect(latest.header("X-Prox-Cache-Key") != older.header("X-Prox-Cache-Key"))
    }

    @Test("--toolchain-download=false: a build that needs go1.23 is a JSON error naming it and the flag; other builds and hits are unaffected")
    func downloadsOff() async throws {
        let (hub, paths) = try await Self.startHub { $0.toolchainDownload = false }
        defer { Task { await hub.stop() } }
        let ok = try await hub.get("/api/download?os=linux&arch=amd64&version=v2.8.4")
        #expect(ok.status == 200, "\(ok.text.prefix(2000))")
        #expect(ok.header("X-Prox-Go-Version") == paths.oldVersion)

        let refused = try await hub.get("/api/download?os=linux&arch=amd64")
        #expect(refused.status == 422)
        let error = try refused.json()["error"] as? [String: Any]
        let message = error?["message"] as? String ?? ""
        #expect(message.contains("needs go >= 1.23.0"), "\(message)")
        #expect(message.contains("--toolchain-download"), "\(message)")
        #expect(error?["id"] != nil)
        let builds = await hub.buildsStarted

        let hit = try await hub.get("/api/download?os=linux&arch=amd64&version=v2.8.4")
        #expect(hit.status == 200)
        #expect(hit.header("X-Prox-Cache") == "hit")
        #expect(hit.body == ok.body)
        #expect(await hub.buildsStarted == builds, "the refused build started nothing")
    }

    @Test("a go.mod the proxy serves garbage for is a clear 502, and nothing is built or cached")
    func garbageGoMod() async throws {
        let root = Fixture.temporaryDirectory("prox-garbage-proxy")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try runProgram("/usr/bin/env", ["python3", Fixture.repositoryRoot + "/scripts/make-fixture-proxy.py", root])
        let mod = root + "/proxy/github.com/caddyserver/caddy/v2/@v/v2.8.4.mod"
        try Data("<html><body>502 Bad Gateway</body></html>\n".utf8).write(to: URL(fileURLWithPath: mod))
        let hub = try await LiveHub.start { $0.goproxy = "file://\(root)/proxy" }
        defer { Task { await hub.stop() } }
        let reply = try await hub.get("/api/download?os=linux&arch=amd64&version=v2.8.4")
        #expect(reply.status == 502)
        let message = (try reply.json()["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("github.com/caddyserver/caddy/v2@v2.8.4"), "\(message)")
        #expect(message.contains("not a go.mod file"), "\(message)")
        #expect(await hub.buildsStarted == 0)
        #expect(try await hub.hub.store.lookup(ResolvedBuild(
            platform: Platform(os: "linux", arch: "amd64", arm: nil), caddyVersion: #require(SemanticVersion("v2.8.4")), plugins: [],
            settings: BuildSettings(goVersion: Fixture.goVersion)
        ).cacheKey) == nil)
    }

    @Test("a go that is not go, or a pinned toolchain that is not there, stops the start naming the flag")
    func badSettings() async throws {
        let notGo = Fixture.temporaryDirectory("prox-notgo") + "/go"
        try installExecutable(Data("#!/bin/sh\necho hello\n".utf8), at: notGo)
        await #expect {
            _ = try await LiveHub.start(goExecutable: notGo)
        } throws: { error in
            "\(error)".contains("is not a usable go command") && "\(error)".contains("--go")
        }
        // Downloads off and a pinned version that is not local: refused at start.
        let paths = try Fixture.toolchainPaths()
        await #expect {
            _ = try await Self.startHub {
                $0.goVersion = paths.newVersion
                $0.toolchainDownload = false
            }
        } throws: { error in
            "\(error)".contains("--go-version \(paths.newVersion)") && "\(error)".contains("--toolchain-download")
        }
    }
}
