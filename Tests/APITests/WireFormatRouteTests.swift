import BuildCore
import Foundation
import HTTPFront
import Hummingbird
import HummingbirdTesting
import ProxTesting
import Testing

/// The JSON field names clients depend on. Swift names are camelCase; the wire stays
/// snake_case (docs/api.md, openapi.yaml, prox-builder's clients): every object's exact
/// key set is checked here, so a missing or misspelt coding key fails.
@Suite struct WireFormatRouteTests {
    static let admin = "admin-token-0123456789abcdef"
    static var bearer: HTTPFields { [.authorization: "Bearer \(admin)"] }

    static func keys(_ object: Any?) -> Set<String> {
        Set((object as? [String: Any])?.keys.map { $0 } ?? [])
    }

    @Test func buildsCacheEntriesToolchainsHealthAndErrorsUseSnakeCaseKeys() async throws {
        let api = try await InProcessAPI(access: AccessPolicy(adminToken: Self.admin))
        defer { api.cleanUp() }
        try await api.test { client in
            let body = #"{"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/hello"], "caddy_version": "v2.8.0", "job_id": "wire-1"}"#
            let accepted = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: body))
            #expect(accepted.status == .accepted, "\(accepted.text)")
            #expect(try accepted.json()["status_code"] as? Int == 202)
            // Wait for the scripted build: the artifact route waits for it.
            #expect(try await client.execute(uri: "/api/builds/wire-1/artifact", method: .get).status == .ok)

            let build = try #require(try await client.execute(uri: "/api/builds/wire-1", method: .get).json()["result"] as? [String: Any])
            #expect(
                Self.keys(build) == [
                    "id", "key", "state", "cached", "target", "os", "arch", "caddy_version", "go_version", "plugins", "worker",
                    "created_at", "started_at", "finished_at", "queued_seconds", "build_seconds", "artifact", "links",
                ],
                "absent optionals (arm, toolchain, attempts, error) are left out"
            )
            #expect(build["caddy_version"] as? String == "v2.8.0", "the request's caddy_version was read")
            #expect(Self.keys(build["artifact"]) == ["sha256", "size", "url", "file_name"])
            #expect(Self.keys(build["links"]) == ["self", "logs", "artifact", "download", "provenance", "signature"])
            #expect(Self.keys((build["plugins"] as? [Any])?.first) == ["path", "module", "version"])

            let cache = try #require(try await client.execute(uri: "/api/admin/cache", method: .get, headers: Self.bearer).json()["result"] as? [String: Any])
            #expect(
                Self.keys((cache["entries"] as? [Any])?.first) == [
                    "key", "digest", "size", "target", "caddy_version", "go_version", "plugins", "created_at", "last_access", "hits", "pinned",
                ]
            )
            let pruned = try await client.execute(uri: "/api/admin/prune?max_bytes=0", method: .post, headers: Self.bearer).json()
            #expect(Self.keys(pruned["result"]) == ["removed_entries", "freed_bytes", "size"])

            let toolchains = try await client.execute(uri: "/api/toolchains", method: .get).json()
            #expect(Self.keys(toolchains["result"]) == ["default", "downloads_allowed", "host", "local", "downloadable", "downloaded"])

            let health = try await client.execute(uri: "/healthz", method: .get).json()
            #expect(Self.keys(health) == ["status", "go_version", "catalog_loaded"])

            let packages = try await client.execute(uri: "/api/packages", method: .get).json()
            #expect(Self.keys(packages) == ["status_code", "result"])

            let error = try await client.execute(uri: "/api/builds/nothing-here", method: .get).json()
            #expect(Self.keys(error) == ["status_code", "error"])
            #expect(Self.keys(error["error"]) == ["message", "id", "kind"])
        }
    }
}
