import BuildCore
import Foundation
import HTTPFront
import NIOHTTP1
import ProxCommands
import ProxTestSupport
import QueueRedis
import Testing

/// Private instances and the admin API on a live proxhub (issue 11).
@Suite struct AccessTests {
    static let pull = ["pull-token-one-0123456789", "pull-token-two-0123456789"]
    static let admin = "admin-token-0123456789abcdef"

    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }
    static func basic(_ user: String, _ password: String) -> [(String, String)] {
        [("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())]
    }

    static func message(_ reply: LiveHub.Reply) -> String {
        ((try? reply.json())?["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    @Test func pullTokensGuardTheAPIButNotHealthOrTheUI() async throws {
        let hub = try await LiveHub.start { c in
            c.pullTokens = Self.pull
            c.adminToken = Self.admin
        }
        defer { Task { await hub.stop() } }
        let missing = try await hub.get("/api/platforms")
        #expect(missing.status == 401)
        #expect(Self.message(missing).contains("send a pull token"))
        let challenges = missing.headers["WWW-Authenticate"]
        #expect(challenges.contains { $0.hasPrefix("Bearer") } && challenges.contains { $0.hasPrefix("Basic") }, "\(challenges)")
        let wrong = try await hub.get("/api/platforms", headers: Self.bearer("not-a-token-0123456789"))
        #expect(wrong.status == 401)
        #expect(Self.message(wrong).contains("wrong pull token"))
        #expect(!wrong.text.contains("not-a-token"), "a token is never echoed")
        // The web UI asks for the token itself: no basic challenge for it.
        let fromUI = try await hub.get("/api/platforms", headers: [("X-Prox-UI", "1")])
        #expect(fromUI.status == 401)
        #expect(fromUI.headers["WWW-Authenticate"] == [#"Bearer realm="Prox""#])

        let accepted: [(String, [(String, String)])] = [
            ("bearer, first token", Self.bearer(Self.pull[0])), ("bearer, second token", Self.bearer(Self.pull[1])),
            ("basic with an empty user (curl -u :TOKEN)", Self.basic("", Self.pull[0])),
            ("basic with any user (Ansible url_password)", Self.basic("ansible", Self.pull[1])),
            ("basic with the token as user", Self.basic(Self.pull[0], "")), ("the admin token", Self.bearer(Self.admin)),
        ]
        for (name, headers) in accepted {
            #expect(try await hub.get("/api/platforms", headers: headers).status == 200, "\(name)")
        }
        #expect(try await hub.get("/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0", headers: Self.bearer(Self.pull[0])).status == 200)
        #expect(try await hub.get("/api/download?os=linux&arch=amd64").status == 401)
        #expect(try await hub.get("/ws?job_id=x").status == 401)
        #expect(try await hub.get("/healthz").status == 200)
        #expect(try await hub.get("/").status == 200)
    }

    @Test func theUIsSessionKeepsTheTokenInAnHttpOnlyCookie() async throws {
        let hub = try await LiveHub.start { c in c.pullTokens = Self.pull }
        defer { Task { await hub.stop() } }
        let before = try #require(try await hub.get("/api/session").json()["result"] as? [String: Bool])
        #expect(before == ["private": true, "authorized": false])
        let wrong = try await hub.request("/api/session", method: .POST, body: #"{"token": "wrong-token-0123456789"}"#)
        #expect(wrong.status == 401)
        #expect(wrong.header("Set-Cookie") == nil)
        let login = try await hub.request("/api/session", method: .POST, body: #"{"token": "\#(Self.pull[1])"}"#)
        #expect(login.status == 200)
        let cookie = try #require(login.header("Set-Cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "\(cookie)")
        let pair = String(cookie.split(separator: ";")[0])
        #expect(try await hub.get("/api/platforms", headers: [("Cookie", "other=1; \(pair)")]).status == 200)
        let after = try #require(try await hub.get("/api/session", headers: [("Cookie", pair)]).json()["result"] as? [String: Bool])
        #expect(after == ["private": true, "authorized": true])
        #expect(try await hub.get("/api/platforms", headers: [("Cookie", "prox_token=forged-0123456789abc")]).status == 401)
        let logout = try await hub.request("/api/session", method: .DELETE)
        #expect(logout.header("Set-Cookie")?.contains("Max-Age=0") == true)
    }

    @Test func anAcceptedTokenIsItsOwnClient() async throws {
        let hub = try await LiveHub.start { c in
            c.pullTokens = Self.pull
            c.clientRequestRate = Rate(3, per: .seconds(60))
        }
        defer { Task { await hub.stop() } }
        for _ in 0..<3 { #expect(try await hub.get("/api/platforms", headers: Self.bearer(Self.pull[0])).status == 200) }
        let over = try await hub.get("/api/platforms", headers: Self.bearer(Self.pull[0]))
        #expect(over.status == 429)
        #expect(Self.message(over).contains("this token"))
        #expect(!over.text.contains(Self.pull[0]))
        #expect(try await hub.get("/api/platforms", headers: Self.bearer(Self.pull[1])).status == 200, "the other token counts apart")
    }

    @Test func theAdminAPIExistsOnlyWithItsTokenAndTakesNoOther() async throws {
        let open = try await LiveHub.start()
        let off = try await open.get("/api/admin/cache")
        #expect(off.status == 404)
        #expect(Self.message(off).contains("--admin-token"))
        await open.stop()

        let hub = try await LiveHub.start { c in
            c.pullTokens = Self.pull
            c.adminToken = Self.admin
        }
        defer { Task { await hub.stop() } }
        #expect(try await hub.get("/api/admin/cache").status == 401)
        let pullOnly = try await hub.get("/api/admin/cache", headers: Self.bearer(Self.pull[0]))
        #expect(pullOnly.status == 401)
        #expect(Self.message(pullOnly).contains("wrong admin token"))
        #expect(try await hub.get("/api/admin/cache", headers: Self.basic("", Self.admin)).status == 200)
    }

    @Test func theAdminListsPinsPrunesRemovesAndCancels() async throws {
        let hub = try await LiveHub.start(goExecutable: try slowGo(seconds: 2)) { c in c.adminToken = Self.admin }
        defer { Task { await hub.stop() } }
        let auth = Self.bearer(Self.admin)
        let download = try await hub.get("/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(download.status == 200)
        let key = try #require(download.header("X-Prox-Cache-Key"))

        let listing = try #require(try await hub.get("/api/admin/cache", headers: auth).json()["result"] as? [String: Any])
        let entries = try #require(listing["entries"] as? [[String: Any]])
        #expect(entries.map { $0["key"] as? String } == [key])
        #expect(entries.first?["target"] as? String == "linux/amd64")
        #expect((listing["size"] as? Int ?? 0) == download.body.count)

        #expect(try await hub.request("/api/admin/cache/\(key)/pin", method: .PUT, headers: auth).status == 200)
        let keep = try #require(try await hub.request("/api/admin/prune?max_bytes=0", method: .POST, headers: auth).json()["result"] as? [String: Any])
        #expect(keep["removed_entries"] as? Int == 0, "pinned entries are not pruned")
        #expect(try await hub.request("/api/admin/cache/\(key)/pin", method: .DELETE, headers: auth).status == 200)
        let pruned = try #require(try await hub.request("/api/admin/prune?max_bytes=0", method: .POST, headers: auth).json()["result"] as? [String: Any])
        #expect(pruned["removed_entries"] as? Int == 1)
        #expect(pruned["size"] as? Int == 0)
        #expect(try await hub.request("/api/admin/cache/\(key)", method: .DELETE, headers: auth).status == 404)
        #expect(try await hub.request("/api/admin/cache/not-a-key/pin", method: .PUT, headers: auth).status == 400)
        #expect(try await hub.request("/api/admin/prune", method: .POST, headers: auth).status == 400)

        // A build cancelled while it runs: its waiter gets the cancellation.
        let submitted = try await hub.request("/api/builds", method: .POST, body: #"{"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/hello@v0.2.0"], "version": "v2.8.0"}"#)
        let id = try #require((try submitted.json()["result"] as? [String: Any])?["id"] as? String)
        async let waiter = hub.get("/api/builds/\(id)/artifact")
        try await Task.sleep(for: .milliseconds(500))
        let cancelled = try await hub.request("/api/admin/builds/\(id)/cancel", method: .POST, headers: auth)
        #expect(cancelled.status == 200)
        #expect((try cancelled.json()["result"] as? [String: Any])?["state"] as? String == "cancelled")
        let waited = try await waiter
        #expect(waited.status == 503, "\(waited.text)")
        #expect(try await hub.request("/api/admin/builds/nosuchbuild/cancel", method: .POST, headers: auth).status == 404)
    }

    @Test func aQueuedBuildIsCancelledInHubMode() async throws {
        let redis = try RedisServer()
        defer { redis.stop() }
        let hub = try await Cluster.hub(redis: redis) { c in c.adminToken = Self.admin }
        let submitted = try await hub.request("/api/builds", method: .POST, body: #"{"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/hello@v0.2.0"], "version": "v2.8.0"}"#)
        let id = try #require((try submitted.json()["result"] as? [String: Any])?["id"] as? String)
        let cancelled = try await hub.request("/api/admin/builds/\(id)/cancel", method: .POST, headers: Self.bearer(Self.admin))
        #expect((try cancelled.json()["result"] as? [String: Any])?["state"] as? String == "cancelled", "\(cancelled.text)")
        // An agent that comes later does not build it.
        let agent = try await LiveAgent.start(try Cluster.agentConfiguration(redis: redis, hub: hub, name: "late"))
        try await Task.sleep(for: .seconds(2))
        #expect(agent.agent.worker.completedJobs == 0)
        let record = try #require(try await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any])
        #expect(record["state"] as? String == "cancelled")
        await agent.stop()
        await hub.stop()
    }
}
