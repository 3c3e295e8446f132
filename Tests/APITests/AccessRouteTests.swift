import BuildCore
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxTestSupport
import ProxTesting
import Crypto
import Testing

/// Pull tokens, the admin API, the UI session, request rates and the push endpoint's
/// checks, in process: every refusal in the official JSON shape with its status.
@Suite struct AccessRouteTests {
    static let pull = "pull-token-0123456789abcdef"
    static let admin = "admin-token-0123456789abcdef"
    static let query = DownloadRouteTests.query

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test func aPrivateInstanceNeedsAPullTokenButHealthAndTheUIStayOpen() async throws {
        let api = try await InProcessAPI(access: AccessPolicy(pullTokens: [Self.pull], adminToken: Self.admin))
        defer { api.cleanUp() }
        try await api.test { client in
            let missing = try await client.execute(uri: Self.query, method: .get)
            #expect(missing.status == .unauthorized)
            #expect(try missing.error().message.hasPrefix("this server is private: send a pull token"))
            #expect(missing.headers[values: .wwwAuthenticate] == [#"Bearer realm="Prox""#, #"Basic realm="Prox", charset="UTF-8""#])
            let wrong = try await client.execute(uri: "/api/packages", method: .get, headers: Self.bearer("wrong-token-0123456789abcdef"))
            #expect(wrong.status == .unauthorized)
            #expect(try wrong.error().message.hasPrefix("wrong pull token"))
            let fromUI = try await client.execute(uri: "/api/packages", method: .get, headers: [.init("X-Prox-UI")!: "1"])
            #expect(fromUI.headers[values: .wwwAuthenticate] == [#"Bearer realm="Prox""#], "no browser prompt for the page")
            #expect(try await client.execute(uri: "/api/packages", method: .get, headers: Self.bearer(Self.pull)).status == .ok)
            let basic = "Basic " + Data(":\(Self.pull)".utf8).base64EncodedString()
            #expect(try await client.execute(uri: "/api/packages", method: .get, headers: [.authorization: basic]).status == .ok, "curl -u :TOKEN")
            #expect(try await client.execute(uri: "/api/packages", method: .get, headers: Self.bearer(Self.admin)).status == .ok, "the admin token opens the API")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/", method: .get).status == .ok)
            // Metrics tell what the server builds: a scraper of a private server sends the token.
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .unauthorized)
            let scraped = try await client.execute(uri: "/metrics", method: .get, headers: Self.bearer(Self.pull))
            #expect(scraped.status == .ok && scraped.text.contains("prox_test_total 0"))

            // The UI's session: the token once, then a cookie.
            let before = try await client.execute(uri: "/api/session", method: .get)
            #expect(try before.json()["result"] as? [String: Bool] == ["private": true, "authorized": false])
            let refused = try await client.execute(uri: "/api/session", method: .post, body: ByteBuffer(string: #"{"token": "nope"}"#))
            #expect(refused.status == .unauthorized)
            let login = try await client.execute(uri: "/api/session", method: .post, body: ByteBuffer(string: #"{"token": "\#(Self.pull)"}"#))
            #expect(login.status == .ok)
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.hasSuffix("; Path=/; HttpOnly; SameSite=Strict"), "no Secure over plain http: \(cookie)")
            let withCookie = try await client.execute(uri: "/api/packages", method: .get, headers: [.cookie: String(cookie.prefix { $0 != ";" })])
            #expect(withCookie.status == .ok)
        }
        #expect(api.runner.builds.isEmpty)
    }

    @Test func theAdminAPINeedsItsTokenAndNamesWhatIsWrong() async throws {
        let off = try await InProcessAPI()
        defer { off.cleanUp() }
        try await off.test { client in
            let reply = try await client.execute(uri: "/api/admin/cache", method: .get, headers: Self.bearer(Self.admin))
            #expect(reply.status == .notFound)
            #expect(try reply.error().message == "the admin API is off: start proxhub with --admin-token to use it")
        }

        let api = try await InProcessAPI(access: AccessPolicy(adminToken: Self.admin))
        defer { api.cleanUp() }
        try await api.test { client in
            let anonymous = try await client.execute(uri: "/api/admin/cache", method: .get)
            #expect(anonymous.status == .unauthorized)
            #expect(try anonymous.error().message.hasPrefix("the admin API needs the admin token"))
            let wrong = try await client.execute(uri: "/api/admin/cache", method: .get, headers: Self.bearer("wrong-token-0123456789abcdef"))
            #expect(try wrong.error().message.hasPrefix("wrong admin token"))
            #expect(try await client.execute(uri: "/api/packages", method: .get).status == .ok, "an admin token alone leaves the API open")

            // A build to administer.
            let built = try await client.execute(uri: Self.query, method: .get)
            let key = try #require(built.headers[.init("X-Prox-Cache-Key")!])
            let listing = try await client.execute(uri: "/api/admin/cache", method: .get, headers: Self.bearer(Self.admin))
            let result = try #require(try listing.json()["result"] as? [String: Any])
            #expect((result["entries"] as? [[String: Any]])?.map { $0["key"] as? String } == [key])
            #expect(result["size"] as? Int == built.body.readableBytes)

            let badKey = try await client.execute(uri: "/api/admin/cache/xyz/pin", method: .put, headers: Self.bearer(Self.admin))
            #expect(badKey.status == .badRequest)
            #expect(try badKey.error().message.hasPrefix("bad cache key"))
            let unknown = try await client.execute(uri: "/api/admin/cache/\(String(repeating: "0", count: 64))/pin", method: .put, headers: Self.bearer(Self.admin))
            #expect(unknown.status == .notFound)
            #expect(try await client.execute(uri: "/api/admin/cache/\(key)/pin", method: .put, headers: Self.bearer(Self.admin)).status == .ok)
            let noSize = try await client.execute(uri: "/api/admin/prune", method: .post, headers: Self.bearer(Self.admin))
            #expect(noSize.status == .badRequest)
            #expect(try noSize.error().message.contains("max_bytes"))
            let prune = try await client.execute(uri: "/api/admin/prune?max_bytes=0", method: .post, headers: Self.bearer(Self.admin))
            #expect((try prune.json()["result"] as? [String: Any])?["removed_entries"] as? Int == 0, "a pinned entry stays")
            #expect(try await client.execute(uri: "/api/admin/cache/\(key)", method: .delete, headers: Self.bearer(Self.admin)).status == .ok)
            #expect(try await client.execute(uri: Self.query, method: .get).headers[.init("X-Prox-Cache")!] == "miss", "removed: built again")

            let badID = try await client.execute(uri: "/api/admin/builds/bad%20id/cancel", method: .post, headers: Self.bearer(Self.admin))
            #expect(badID.status == .badRequest)
            let noBuild = try await client.execute(uri: "/api/admin/builds/nothing/cancel", method: .post, headers: Self.bearer(Self.admin))
            #expect(noBuild.status == .notFound)
        }
    }

    @Test func aClientOverItsRequestRateGets429WithRetryAfter() async throws {
        let api = try await InProcessAPI(requestRate: Rate(3, per: .seconds(3600)))
        defer { api.cleanUp() }
        try await api.test { client in
            for _ in 0..<3 { #expect(try await client.execute(uri: "/api/packages", method: .get).status == .ok) }
            let over = try await client.execute(uri: "/api/packages", method: .get)
            #expect(over.status == .tooManyRequests)
            #expect(Int(over.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(try over.error().message.contains("is over its request rate (--client-request-rate)"))
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok, "health is not counted")
        }
    }

    @Test func pushesNeedTheHubsPushToken() async throws {
        let closed = try await InProcessAPI()
        defer { closed.cleanUp() }
        try await closed.test { client in
            let reply = try await client.execute(uri: "/api/internal/builds/x/artifact", method: .put, headers: Self.bearer("anything"))
            #expect(reply.status == .forbidden)
            #expect(try reply.error().message.hasPrefix("this hub accepts no pushes"))
        }
        let api = try await InProcessAPI(script: .init(duration: .seconds(30)), pushToken: "push-secret")
        defer { api.cleanUp() }
        try await api.test { client in
            let missing = try await client.execute(uri: "/api/internal/builds/x/artifact", method: .put)
            #expect(missing.status == .unauthorized)
            let wrong = try await client.execute(uri: "/api/internal/builds/x/artifact", method: .put, headers: Self.bearer("push-secreT"))
            #expect(wrong.status == .forbidden)
            let unknown = try await client.execute(uri: "/api/internal/builds/nothing/artifact", method: .put, headers: Self.bearer("push-secret"))
            #expect(unknown.status == .notFound)
            // A build in flight (the scripted runner takes 30 s) to push to.
            let accepted = try await client.execute(
                uri: "/api/builds", method: .post, body: ByteBuffer(string: #"{"os": "linux", "arch": "amd64", "packages": [], "job_id": "pushed"}"#))
            #expect(accepted.status == .accepted)
            func push(_ body: [UInt8], sha256: String?) async throws -> TestResponse {
                var headers = Self.bearer("push-secret")
                if let sha256 { headers[.init("X-Prox-Sha256")!] = sha256 }
                return try await client.execute(uri: "/api/internal/builds/pushed/artifact", method: .put, headers: headers, body: ByteBuffer(bytes: body))
            }
            let executable = ExecutableHeaders.elf(machine: 62) + [UInt8](repeating: 7, count: 4096)
            let digest = SHA256.hash(data: executable).map { String(format: "%02x", $0) }.joined()
            let noDigest = try await push(executable, sha256: nil)
            #expect(noDigest.status == .badRequest)
            #expect(try noDigest.error().message.hasPrefix("X-Prox-Sha256 must be"))
            let otherDigest = try await push(executable, sha256: String(repeating: "b", count: 64))
            #expect(otherDigest.status == .unprocessableContent)
            #expect(try otherDigest.error().message.contains("nothing was cached"))
            let script = Array("#!/bin/sh\n".utf8)
            let notExecutable = try await push(script, sha256: SHA256.hash(data: script).map { String(format: "%02x", $0) }.joined())
            #expect(notExecutable.status == .unprocessableContent, "\(notExecutable.text)")
            #expect(await api.store.all.isEmpty, "no refused push reached the store")
            let stored = try await push(executable, sha256: digest)
            #expect(stored.status == .created, "\(stored.text)")
            #expect((try stored.json()["result"] as? [String: Any])?["sha256"] as? String == digest)
            #expect(await api.store.all.map(\.digest) == [digest])

            let noKey = try await client.execute(uri: "/api/internal/artifacts/abc", method: .get, headers: Self.bearer("push-secret"))
            #expect(noKey.status == .badRequest)
            let none = try await client.execute(uri: "/api/internal/artifacts/\(String(repeating: "a", count: 64))", method: .get, headers: Self.bearer("push-secret"))
            #expect(none.status == .notFound)
        }
        await api.builds.shutdown()
    }
}
