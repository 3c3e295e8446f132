import Foundation
import ProxTestSupport
import NIOHTTP1
import ProxCommands
import Testing

/// Bad input on a live proxhub (the fixture proxy, the catalog file); the table of bad
/// download queries runs in process, in APITests/ValidationRouteTests.
@Suite struct ValidationTests {
    @Test func unknownModulesAndVersionsAreClientErrors() async throws {
        let hub = try await LiveHub.start { $0.allowUnlisted = true }
        defer { Task { await hub.stop() } }
        let missing = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fnobody%2Fnothing")
        #expect(missing.status == 400)
        #expect(missing.text.contains("was not found through the module proxy"))
        let badVersion = try await hub.get("/api/download?os=linux&arch=amd64&version=v9.9.9")
        #expect(badVersion.status == 400)
        #expect(badVersion.text.contains("v9.9.9"))
        let unknownBuild = try await hub.get("/api/builds/doesnotexist")
        #expect(unknownBuild.status == 404)
        #expect(try unknownBuild.json()["status_code"] as? Int == 404)
        let badJSON = try await hub.request("/api/builds", method: .POST, body: "{\"os\": 3}")
        #expect(badJSON.status == 400, "\(badJSON.text)")
        let huge = try await hub.request("/api/builds", method: .POST, body: "{\"os\": \"" + String(repeating: "x", count: 2 << 20) + "\"}")
        #expect(huge.status == 413, "\(huge.text.prefix(300))")
        #expect(try huge.json()["status_code"] as? Int == 413, "errors from the framework keep the JSON shape")
    }

    @Test func catalogVersionsAndHealth() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let versions = try await hub.get("/api/caddy_versions")
        let list = try JSONSerialization.jsonObject(with: Data(versions.body)) as? [String]
        #expect(list == ["latest", "v2.9.0-beta.1", "v2.8.4", "v2.8.0", "v2.7.6"])
        let health = try await hub.get("/healthz")
        #expect(health.status == 200)
        #expect(try health.json()["go_version"] as? String != nil)
        let packages = try await hub.get("/api/packages")
        let json = try packages.json()
        #expect(json["status_code"] as? Int == 200)
        let result = try #require(json["result"] as? [[String: Any]])
        #expect(result.count == 6)
        let first = try #require(result.first)
        for field in ["id", "path", "published", "updated", "listed", "available", "downloads", "repo", "modules"] {
            #expect(first[field] != nil, "official field \(field)")
        }
    }

    @Test func catalogSurvivesAFailingUpstream() async throws {
        let data = Fixture.temporaryDirectory("prox-hub")
        let first = try await LiveHub.start(dataDirectory: data)
        #expect(try await first.get("/api/packages").status == 200)
        await first.stop()
        let second = try await LiveHub.start(dataDirectory: data) { $0.packageEndpoint = "file:///nonexistent/packages.json" }
        defer { Task { await second.stop() } }
        let packages = try await second.get("/api/packages")
        #expect(packages.status == 200, "the last good copy is served")
        #expect((try packages.json()["result"] as? [Any])?.count == 6)
        let listed = try await second.get("/api/download?os=linux&arch=amd64&p=github.com%2Fsomeone%2Funlisted")
        #expect(listed.status == 400)
    }
}
