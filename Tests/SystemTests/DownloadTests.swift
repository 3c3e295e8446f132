import BuildCore
import Foundation
import ProxTestSupport
import NIOHTTP1
import ProxCommands
import Testing

/// End to end through a live proxhub: real HTTP, real Go builds, real SQLite cache.
@Suite(.serialized) struct DownloadTests {
    static let allPlugins = [
        "github.com/proxfixture/hello", "github.com/ProxFixture/UpperCase", "github.com/proxfixture/majortwo/v2",
        "github.com/proxfixture/withdep", "github.com/proxfixture/multi/handlers",
    ]
    static let allModuleIDs = ["http.handlers.hello", "http.handlers.uppercase", "http.handlers.majortwo", "http.handlers.withdep", "http.handlers.multi"]

    static func query(_ os: String, _ arch: String, arm: String? = nil, _ packages: [String], version: String? = nil) -> String {
        var items = ["os=\(os)", "arch=\(arch)"]
        if let arm { items.append("arm=\(arm)") }
        items += packages.map { "p=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
        if let version { items.append("version=\(version)") }
        return "/api/download?" + items.joined(separator: "&")
    }

    @Test func buildsEveryPluginIntoARunnableBinaryThenServesItFromTheCache() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let path = Self.query("linux", "amd64", Self.allPlugins)

        let first = try await hub.get(path)
        #expect(first.status == 200, "\(first.text.prefix(2000))")
        #expect(first.header("X-Prox-Cache") == "miss")
        #expect(first.header("Content-Disposition") == "attachment; filename=\"caddy_linux_amd64_custom\"")
        #expect(first.header("Content-Length") == String(first.body.count))
        #expect(first.header("ETag") == "\"\(first.sha256)\"")
        let httpDate = #"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$"#
        #expect(first.header("Last-Modified")?.range(of: httpDate, options: .regularExpression) != nil, "\(first.header("Last-Modified") ?? "none")")
        let digestBytes = stride(from: 0, to: 64, by: 2).map { i -> UInt8 in
            let s = first.sha256.index(first.sha256.startIndex, offsetBy: i)
            return UInt8(first.sha256[s..<first.sha256.index(s, offsetBy: 2)], radix: 16)!
        }
        #expect(first.header("Repr-Digest") == "sha-256=:\(Data(digestBytes).base64EncodedString()):")

        let binary = try writeExecutable(first.body)
        let modules = try runProgram(binary, ["list-modules"]).split(separator: "\n").map(String.init)
        for id in Self.allModuleIDs { #expect(modules.contains(id), "\(id) missing from \(modules)") }
        #expect(modules.contains("http.handlers.file_server"))
        #expect(try runProgram(binary, ["version"]).hasPrefix("v2.8.4 "), "the newest release, not the pre-release")
        let buildsAfterFirst = await hub.buildsStarted
        #expect(buildsAfterFirst == 1)

        let second = try await hub.get(path)
        #expect(second.status == 200)
        #expect(second.header("X-Prox-Cache") == "hit")
        #expect(second.body == first.body)
        #expect(await hub.buildsStarted == buildsAfterFirst, "a hit runs no build")

        // Same build named differently (order, explicit versions) is the same cache entry.
        let explicit = Self.query("linux", "amd64", Self.allPlugins.reversed().map { $0 == "github.com/proxfixture/hello" ? "\($0)@v0.2.0" : $0 }, version: "v2.8.4")
        let third = try await hub.get(explicit)
        #expect(third.header("X-Prox-Cache") == "hit")
        #expect(third.body == first.body)

        // HEAD answers with the headers only; conditional and range requests work.
        let head = try await hub.request(path, method: .HEAD)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("Content-Length") == String(first.body.count))
        let notModified = try await hub.get(path, headers: [("If-None-Match", "\"\(first.sha256)\"")])
        #expect(notModified.status == 304)
        let range = try await hub.get(path, headers: [("Range", "bytes=100-199")])
        #expect(range.status == 206)
        #expect(range.body == Array(first.body[100...199]))
        #expect(range.header("Content-Range") == "bytes 100-199/\(first.body.count)")
        let unsatisfiable = try await hub.get(path, headers: [("Range", "bytes=\(first.body.count + 10)-")])
        #expect(unsatisfiable.status == 416)

        // HEAD on a miss waits for the build, like the official service; the GET after it is a hit.
        let newBuild = Self.query("linux", "amd64", ["github.com/proxfixture/withdep"])
        let headMiss = try await hub.request(newBuild, method: .HEAD)
        #expect(headMiss.status == 200)
        #expect(headMiss.header("X-Prox-Cache") == "miss")
        #expect(headMiss.body.isEmpty)
        let afterHead = try await hub.get(newBuild)
        #expect(afterHead.header("X-Prox-Cache") == "hit")
        #expect(afterHead.header("Content-Length") == headMiss.header("Content-Length"))
        #expect(afterHead.header("ETag") == headMiss.header("ETag"))

        // Pinned versions are honoured and visible in the binary.
        let pinned = try await hub.get(Self.query("linux", "amd64", ["github.com/proxfixture/hello@v0.1.0"], version: "v2.7.6"))
        #expect(pinned.status == 200, "\(pinned.text.prefix(2000))")
        let pinnedBinary = try writeExecutable(pinned.body)
        let pinnedModules = try runProgram(pinnedBinary, ["list-modules"])
        #expect(pinnedModules.contains("http.handlers.hello\n"))
        #expect(!pinnedModules.contains("hello_v2feature"), "v0.1.0 has no v2 feature")
        #expect(try runProgram(pinnedBinary, ["version"]).hasPrefix("v2.7.6 "))

        // Local download counts feed /api/packages, beside upstream's, into the popularity.
        let packages = try await hub.get("/api/packages")
        #expect(packages.status == 200)
        let result = try #require(try packages.json()["result"] as? [[String: Any]])
        let hello = try #require(result.first { $0["path"] as? String == "github.com/proxfixture/hello" })
        #expect(hello["local_downloads"] as? Int == 4, "three full GETs of the set plus the pinned one")
        #expect(hello["downloads"] as? Int == 4200, "upstream's count, as the catalog gives it")
        let broken = try #require(result.first { $0["path"] as? String == "github.com/proxfixture/broken" })
        #expect(broken["downloads"] as? Int == 3)
        #expect(broken["local_downloads"] as? Int == 0)
        // popularity = local + upstream × max(Σ local, 1000) / Σ upstream (docs/api.md)
        let upstreamTotal = result.reduce(0) { $0 + ($1["downloads"] as? Int ?? 0) }
        let localTotal = result.reduce(0) { $0 + ($1["local_downloads"] as? Int ?? 0) }
        let expected = 4 + 4200 * Double(max(localTotal, 1000)) / Double(upstreamTotal)
        #expect(abs((hello["popularity"] as? Double ?? 0) - expected) < 0.01, "\(hello["popularity"] ?? "none") vs \(expected)")
        let order = result.compactMap { $0["popularity"] as? Double }
        #expect(order == order.sorted(by: >), "most popular first")
        #expect(result.first?["path"] as? String == "github.com/proxfixture/hello")
    }

    @Test func crossCompilesForEveryKindOfTarget() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let hello = ["github.com/proxfixture/hello"]

        let arm6 = try await hub.get(Self.query("linux", "arm", arm: "6", hello))
        let arm7 = try await hub.get(Self.query("linux", "arm", arm: "7", hello))
        let armDefault = try await hub.get(Self.query("linux", "arm", hello))
        #expect(arm6.status == 200 && arm7.status == 200, "\(arm6.text.prefix(500)) \(arm7.text.prefix(500))")
        #expect(arm6.sha256 != arm7.sha256, "GOARM 6 and 7 are different builds")
        #expect(arm6.header("X-Prox-Cache-Key") != arm7.header("X-Prox-Cache-Key"))
        #expect(armDefault.header("X-Prox-Cache") == "hit" && armDefault.body == arm7.body, "arm defaults to 7")
        #expect(arm6.header("Content-Disposition")?.contains("caddy_linux_arm6_custom") == true)
        for reply in [arm6, arm7] {
            #expect(ExecutableFormat.check(header: Array(reply.body.prefix(4096)), for: try Platform(os: "linux", arch: "arm")) == nil)
        }

        let windows = try await hub.get(Self.query("windows", "amd64", hello))
        #expect(windows.status == 200, "\(windows.text.prefix(500))")
        #expect(windows.body.starts(with: [0x4D, 0x5A]))
        #expect(windows.header("Content-Disposition") == "attachment; filename=\"caddy_windows_amd64_custom.exe\"")

        let darwin = try await hub.get(Self.query("darwin", "arm64", hello))
        #expect(darwin.status == 200, "\(darwin.text.prefix(500))")
        #expect(ExecutableFormat.check(header: Array(darwin.body.prefix(4096)), for: try Platform(os: "darwin", arch: "arm64")) == nil)
        #expect(await hub.buildsStarted == 4)
    }

    @Test func twentyConcurrentIdenticalRequestsShareOneBuild() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let path = Self.query("linux", "386", ["github.com/proxfixture/withdep"])
        let replies = try await withThrowingTaskGroup(of: LiveHub.Reply.self) { group in
            for _ in 0..<20 { group.addTask { try await hub.get(path) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.count == 20)
        #expect(replies.allSatisfy { $0.status == 200 })
        #expect(Set(replies.map(\.sha256)).count == 1, "every client got the same bytes")
        #expect(await hub.buildsStarted == 1)
    }

    @Test func brokenPluginGivesTheCompilerErrorAsJSONAndInTheLog() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let reply = try await hub.get(Self.query("linux", "amd64", ["github.com/proxfixture/broken"]))
        #expect(reply.status == 422)
        #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
        let json = try reply.json()
        #expect(json["status_code"] as? Int == 422)
        let error = try #require(json["error"] as? [String: Any])
        let message = try #require(error["message"] as? String)
        #expect(message.contains("cannot use \"this does not compile\""), "\(message)")
        #expect(!message.contains(hub.dataDirectory) && !message.contains(Fixture.goCacheRoot), "no server paths leak: \(message)")
        let id = try #require(error["id"] as? String)

        let log = try await hub.get("/api/builds/\(id)/logs")
        #expect(log.status == 200)
        #expect(log.header("Content-Type")?.hasPrefix("text/event-stream") == true)
        #expect(log.text.contains("cannot use"))
        #expect(log.text.contains("event: result"))
        let record = try await hub.get("/api/builds/\(id)")
        let build = try #require(try record.json()["result"] as? [String: Any])
        #expect(build["state"] as? String == "failed")
    }
}
