import Foundation
import ProxTestSupport
import NIOHTTP1
import ProxCommands
import Testing

/// Bad input always gets a 400 with the official JSON error shape, and never starts a build.
@Suite struct ValidationTests {
    static let badQueries: [(String, String)] = [
        ("os=beos&arch=amd64", "unknown os"),
        ("arch=amd64", "missing os"),
        ("os=linux&arch=vax", "unknown arch"),
        ("os=linux&arch=arm&arm=9", "unknown arm"),
        ("os=linux&arch=amd64&arm=7", "only applies to arch=arm"),
        ("os=linux&arch=amd64&p=https%3A%2F%2Fgithub.com%2Fproxfixture%2Fhello", "without the scheme"),
        ("os=linux&arch=amd64&p=http.handlers.hello", "Caddy module ID"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhel%20lo", "a space"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%3Brm%20-rf", "contains"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2F%24(id)", "contains"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2F%60id%60", "contains"),
        ("os=linux&arch=amd64&p=github.com%2F..%2Fetc", "\"..\""),
        ("os=linux&arch=amd64&p=proxfixture%2Fhello", "no domain"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40-master", "bad version"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40v1", "bad version"),
        ("os=linux&arch=amd64&version=v2.8", "bad version"),
        ("os=linux&arch=amd64&version=v2.8.4&caddy_version=v2.7.6", "conflicting Caddy versions"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%3D%2Ftmp%2Fevil", "filesystem path"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%3D..%2Fevil", "filesystem path"),
        ("os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%3Dgithub.com%2Fproxfixture%2Fwithdep%40v0.1.0", "replacements are disabled"),
        ("os=linux&arch=amd64&p=github.com%2Fsomeone%2Funlisted", "is not a registered Caddy module package path"),
        ("os=linux&arch=amd64&job_id=no%20spaces", "bad job id"),
    ]

    @Test func badInputsAreRejectedWithJSONErrors() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        for (query, expected) in Self.badQueries {
            let reply = try await hub.get("/api/download?" + query)
            #expect(reply.status == 400, "\(query) -> \(reply.status) \(reply.text)")
            let json = try reply.json()
            #expect(json["status_code"] as? Int == 400, "\(query)")
            let error = try #require(json["error"] as? [String: Any], "\(query): \(reply.text)")
            let message = error["message"] as? String ?? ""
            #expect(message.contains(expected), "\(query): \(message)")
            #expect((error["id"] as? String)?.isEmpty == false)
        }
        #expect(await hub.buildsStarted == 0)
    }

    @Test func filesystemReplacementsAreRefusedEvenWhenReplacementsAreAllowed() async throws {
        let hub = try await LiveHub.start { $0.allowReplacements = true }
        defer { Task { await hub.stop() } }
        for target in ["%2Fetc%2Fpasswd", ".%2Flocal", "~%2Fx", "file%3A%2F%2F%2Ftmp"] {
            let reply = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%3D\(target)")
            #expect(reply.status == 400, "\(target): \(reply.text)")
            #expect(reply.text.contains("filesystem path"), "\(target): \(reply.text)")
        }
        #expect(await hub.buildsStarted == 0)
    }

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
