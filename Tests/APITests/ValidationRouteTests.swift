import BuildCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxTesting
import Testing

/// Bad input always gets a 400 with the official JSON error shape, and never starts a build.
@Suite struct ValidationRouteTests {
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
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            for (query, expected) in Self.badQueries {
                for method in [HTTPRequest.Method.get, .head] {
                    let reply = try await client.execute(uri: "/api/download?" + query, method: method)
                    #expect(reply.status == .badRequest, "\(method) \(query) -> \(reply.status) \(reply.text)")
                    if method == .head { continue }
                    let error = try reply.error()
                    #expect(error.status == 400, "\(query)")
                    #expect(error.message.contains(expected), "\(query): \(error.message)")
                    #expect(!error.id.isEmpty)
                    #expect(reply.headers[.contentType] == "application/json; charset=utf-8")
                }
            }
        }
        #expect(api.runner.builds.isEmpty)
        #expect(await api.builds.startedBuildCount == 0)
    }

    @Test func filesystemReplacementsAreRefusedEvenWhenReplacementsAreAllowed() async throws {
        let api = try await InProcessAPI(allowReplacements: true)
        defer { api.cleanUp() }
        try await api.test { client in
            for target in ["%2Fetc%2Fpasswd", ".%2Flocal", "~%2Fx", "file%3A%2F%2F%2Ftmp"] {
                let reply = try await client.execute(uri: "/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%3D\(target)", method: .get)
                #expect(reply.status == .badRequest, "\(target): \(reply.text)")
                #expect(reply.text.contains("filesystem path"), "\(target): \(reply.text)")
            }
        }
        #expect(api.runner.builds.isEmpty)
    }

    @Test func unknownModulesVersionsBuildsAndBodies() async throws {
        let api = try await InProcessAPI(allowUnlisted: true)
        defer { api.cleanUp() }
        try await api.test { client in
            let missing = try await client.execute(uri: "/api/download?os=linux&arch=amd64&p=github.com%2Fnobody%2Fnothing", method: .get)
            #expect(missing.status == .badRequest)
            #expect(missing.text.contains("was not found through the module proxy"), "\(missing.text)")
            let badVersion = try await client.execute(uri: "/api/download?os=linux&arch=amd64&version=v9.9.9", method: .get)
            #expect(badVersion.status == .badRequest)
            #expect(badVersion.text.contains("v9.9.9"))
            let unknownBuild = try await client.execute(uri: "/api/builds/doesnotexist", method: .get)
            #expect(unknownBuild.status == .notFound)
            #expect(try unknownBuild.error().status == 404)
            let badID = try await client.execute(uri: "/api/builds/bad%20id", method: .get)
            #expect(badID.status == .badRequest)
            #expect(try badID.error().message.contains("bad job id"))
            let badJSON = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: #"{"os": 3}"#))
            #expect(badJSON.status == .badRequest, "\(badJSON.text)")
            #expect(try badJSON.error().message.contains("the JSON body is not valid"))
            let huge = try await client.execute(
                uri: "/api/builds", method: .post, body: ByteBuffer(string: #"{"os": ""# + String(repeating: "x", count: 2 << 20) + #""}"#))
            #expect(huge.status == .contentTooLarge, "\(huge.text.prefix(300))")
            #expect(try huge.error().status == 413, "errors from the framework keep the JSON shape")
            let noRoute = try await client.execute(uri: "/api/nothing-here", method: .get)
            #expect(noRoute.status == .notFound)
            #expect(try noRoute.error().message.contains("no such endpoint: /api/nothing-here"))
        }
        #expect(api.runner.builds.isEmpty)
    }

    @Test func theProxyDownIsA502AndNothingIsBuilt() async throws {
        var proxy = InProcessAPI.proxy
        proxy.failure = ProxError(.upstreamUnavailable, "module proxy memory://proxy could not be reached for the test")
        let api = try await InProcessAPI(proxy: proxy)
        defer { api.cleanUp() }
        try await api.test { client in
            let reply = try await client.execute(uri: "/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello", method: .get)
            #expect(reply.status == .badGateway, "\(reply.text)")
            #expect(try reply.error().message.contains("could not be reached"))
        }
        #expect(api.runner.builds.isEmpty)
    }

    @Test func catalogVersionsPlatformsAndHealth() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            let versions = try await client.execute(uri: "/api/caddy_versions", method: .get)
            #expect(try JSONSerialization.jsonObject(with: Data(versions.text.utf8)) as? [String] == ["latest", "v2.9.0-beta.1", "v2.8.4", "v2.8.0", "v2.7.6"])
            let packages = try await client.execute(uri: "/api/packages", method: .get)
            let result = try #require(try packages.json()["result"] as? [[String: Any]])
            #expect(result.map { $0["path"] as? String } == [InProcessAPI.hello])
            let platforms = try await client.execute(uri: "/api/platforms", method: .get)
            #expect(platforms.status == .ok)
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(try health.json()["go_version"] as? String == "go1.23.5")
        }
    }
}
