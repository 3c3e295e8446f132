import BuildCore
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxTesting
import Testing

/// `/api/download/plan` and `/api/packages/{path}/compatibility` (issue 15), in process:
/// the dry run resolves what a download would use without building, and what finished
/// builds taught shows up as warnings and suggestions.
@Suite struct PlanRouteTests {
    static let hello = "github.com/proxfixture/hello"
    static let plan = "/api/download/plan?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello&version=v2.8.4"
    static let download = "/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello&version=v2.8.4"

    static func result(_ response: TestResponse) throws -> [String: Any] {
        try #require(try response.json()["result"] as? [String: Any], Comment(rawValue: response.text))
    }

    @Test func aPlanResolvesEverythingWithoutBuildingThenSeesTheCachedArtifact() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            let first = try await client.execute(uri: Self.plan, method: .get)
            #expect(first.status == .ok)
            let plan = try Self.result(first)
            #expect(plan["caddy_version"] as? String == "v2.8.4")
            #expect(plan["go_version"] as? String == api.runner.goVersion)
            #expect(plan["target"] as? String == "linux/amd64")
            let plugins = try #require(plan["plugins"] as? [[String: Any]])
            #expect(plugins.count == 1)
            #expect(plugins.first?["version"] as? String == "v0.2.0", "latest, resolved")
            #expect(plan["cached"] as? Bool == false)
            #expect(plan["artifact"] == nil)
            #expect(plan["building"] == nil)
            #expect((plan["download"] as? String)?.contains("github.com%2Fproxfixture%2Fhello%40v0.2.0") == true, "every version pinned")
            #expect(api.runner.builds.isEmpty, "a plan builds nothing")

            let downloaded = try await client.execute(uri: Self.download, method: .get)
            #expect(downloaded.status == .ok)
            #expect(downloaded.headers[HTTPField.Name("X-Prox-Cache-Key")!] == plan["key"] as? String, "the plan's key is the download's")
            let cached = try Self.result(try await client.execute(uri: Self.plan, method: .get))
            #expect(cached["cached"] as? Bool == true)
            let artifact = try #require(cached["artifact"] as? [String: Any])
            #expect(downloaded.headers[.eTag] == "\"\(artifact["sha256"] as? String ?? "")\"")
            #expect(artifact["size"] as? Int == downloaded.body.readableBytes)
            // The pinned link is a download of the same build.
            let pinned = try await client.execute(uri: try #require(cached["download"] as? String), method: .head)
            #expect(pinned.headers[HTTPField.Name("X-Prox-Cache")!] == "hit")
        }
        #expect(api.runner.builds.count == 1)
    }

    @Test func aPlanNamesTheBuildInFlight() async throws {
        let api = try await InProcessAPI(script: .init(duration: .seconds(30)))
        defer { api.cleanUp() }
        try await api.test { client in
            let submitted = try await client.execute(
                uri: "/api/builds", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"os": "linux", "arch": "amd64", "packages": ["github.com/proxfixture/hello"], "version": "v2.8.4"}"#)
            )
            #expect(submitted.status == .accepted)
            let id = try #require(try Self.result(submitted)["id"] as? String)
            let plan = try Self.result(try await client.execute(uri: Self.plan, method: .get))
            #expect(plan["cached"] as? Bool == false)
            let building = try #require(plan["building"] as? [String: Any])
            #expect(building["id"] as? String == id)
            #expect(["queued", "running"].contains(building["state"] as? String ?? ""))
            #expect((building["links"] as? [String: String])?["logs"] == "/api/builds/\(id)/logs")
        }
        await api.builds.shutdown()
    }

    @Test func badQueriesGetTheSameAnswersAsTheDownload() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        let queries = [
            "os=beos&arch=amd64", "os=linux", "os=linux&arch=amd64&p=not%20a%20path", "os=linux&arch=amd64&version=v9.9.9",
            "os=linux&arch=amd64&p=github.com%2Fsomeone%2Funlisted", "os=linux&arch=arm&arm=9", "os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40vX",
        ]
        try await api.test { client in
            for query in queries {
                let download = try await client.execute(uri: "/api/download?" + query, method: .get)
                let plan = try await client.execute(uri: "/api/download/plan?" + query, method: .get)
                #expect(download.status.code >= 400, "\(query)")
                #expect(plan.status == download.status, "\(query): \(plan.status) vs \(download.status)")
                #expect(try plan.error().message == download.error().message, "\(query)")
            }
        }
        #expect(api.runner.builds.isEmpty)
    }

    @Test func aFailureTheCompilerBlamedOnAPluginIsWarnedAboutWithAVersionThatBuilt() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            // v0.1.0 builds with v2.8.4.
            #expect(try await client.execute(uri: Self.download.replacingOccurrences(of: "hello&", with: "hello%40v0.1.0&"), method: .get).status == .ok)
            // v0.2.0 does not: the compiler names a file of its module.
            api.runner.script = .init(
                failure: ProxError(
                    .buildFailed,
                    "go build -o caddy failed (exited(1)):\n# github.com/proxfixture/hello\n"
                        + "$GOMODCACHE/github.com/proxfixture/hello@v0.2.0/hello.go:27:13: cannot use \"x\" (untyped string constant) as int value"
                )
            )
            let failed = try await client.execute(uri: Self.download, method: .get)
            #expect(failed.status.code == 422)

            let plan = try Self.result(try await client.execute(uri: Self.plan, method: .get))
            let known = try #require((plan["compatibility"] as? [[String: Any]])?.first)
            #expect(known["path"] as? String == Self.hello)
            #expect(known["version"] as? String == "v0.2.0")
            #expect(known["builds"] as? Int == 1)
            #expect(known["failed"] as? Int == 1)
            #expect(known["suggestion"] as? String == "v0.1.0", "the newest version known to build with Caddy v2.8.4")
            let warning = try #require((plan["warnings"] as? [String])?.first)
            #expect(warning.hasPrefix("github.com/proxfixture/hello v0.2.0 failed with Caddy v2.8.4 on 1 of 1 build: hello.go:27:13: cannot use"), "\(warning)")
            #expect(warning.contains("v0.1.0"))

            // The same facts, per version, for the package; and its last build in the catalog.
            let listing = try Self.result(try await client.execute(uri: "/api/packages/github.com/proxfixture/hello/compatibility", method: .get))
            let versions = try #require(listing["versions"] as? [[String: Any]])
            #expect(versions.map { $0["version"] as? String } == ["v0.2.0", "v0.1.0"])
            #expect(versions.map { $0["succeeded"] as? Int } == [0, 1])
            #expect(versions.first?["targets"] as? [String] == ["linux/amd64"])
            let packages = try #require(try await client.execute(uri: "/api/packages", method: .get).json()["result"] as? [[String: Any]])
            let last = try #require(packages.first?["last_build"] as? [String: Any])
            #expect(last["version"] as? String == "v0.2.0")
            #expect(last["succeeded"] as? Bool == false)
            #expect((last["error"] as? String)?.hasPrefix("hello.go:27:13") == true)

            // A failure nobody's module is blamed for (a timeout) teaches nothing.
            api.runner.script = .init(failure: ProxError(.buildTimedOut, "the build took longer than 10m"))
            _ = try await client.execute(uri: Self.download.replacingOccurrences(of: "v2.8.4", with: "v2.8.0"), method: .get)
            let none = try Self.result(try await client.execute(uri: Self.plan.replacingOccurrences(of: "v2.8.4", with: "v2.8.0"), method: .get))
            #expect((none["compatibility"] as? [Any])?.isEmpty == true)
            // Unknown packages have no records; a malformed path is a 400.
            let unknown = try Self.result(try await client.execute(uri: "/api/packages/github.com/someone/else/compatibility", method: .get))
            #expect((unknown["versions"] as? [Any])?.isEmpty == true)
            #expect(try await client.execute(uri: "/api/packages/not%20a%20path/compatibility", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/api/packages/github.com/x/y/other", method: .get).status == .notFound)
        }
    }
}
