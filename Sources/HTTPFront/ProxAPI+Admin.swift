import BuildCore
import Foundation
import Hummingbird

/// The admin API (`/api/admin/`, behind `--admin-token`; see ``AccessPolicy``): the cache's
/// entries, pinning, removal, pruning, and cancelling builds.
extension ProxAPI {
    func addAdminRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/api/admin/cache") { request, _ in try await self.cacheListing(request) }
        router.put("/api/admin/cache/{key}/pin") { _, context in try await self.pin(context.parameters.require("key"), true) }
        router.delete("/api/admin/cache/{key}/pin") { _, context in try await self.pin(context.parameters.require("key"), false) }
        router.delete("/api/admin/cache/{key}") { _, context in try await self.removeEntry(context.parameters.require("key")) }
        router.post("/api/admin/prune") { request, _ in try await self.prune(request) }
        router.post("/api/admin/builds/{id}/cancel") { _, context in try await self.cancelBuild(context.parameters.require("id")) }
    }

    struct CacheEntryView: Encodable {
        let key: String
        let digest: String
        let size: Int64
        let target: String
        let caddyVersion: String
        let goVersion: String
        let plugins: [String]
        let createdAt: Date
        let lastAccess: Date
        let hits: Int
        let pinned: Bool

        enum CodingKeys: String, CodingKey {
            case key, digest, size, target, caddyVersion = "caddy_version", goVersion = "go_version", plugins
            case createdAt = "created_at", lastAccess = "last_access", hits, pinned
        }

        init(_ record: ArtifactRecord) {
            key = record.key.hex
            digest = record.digest
            size = record.size
            target = record.build.platform.description
            caddyVersion = record.build.caddyVersion.description
            goVersion = record.build.settings.goVersion
            plugins = record.build.plugins.map { "\($0.module)@\($0.version)" }
            createdAt = record.createdAt
            lastAccess = record.lastAccess
            hits = record.hits
            pinned = record.pinned
        }
    }

    private func administeredCache() throws(ProxError) -> any CacheAdministration {
        guard let cacheAdmin else { throw ProxError(.notFound, "this server's cache cannot be administered through the API") }
        return cacheAdmin
    }

    private static func key(_ text: String) throws(ProxError) -> CacheKey {
        guard let key = CacheKey(hex: text) else {
            throw .invalid("bad cache key: give the 64 hex digits of a key from GET /api/admin/cache (or the X-Prox-Cache-Key header)")
        }
        return key
    }

    /// `GET /api/admin/cache?limit=N`: the cache's size, quota and entries, most recently used first.
    func cacheListing(_ request: Request) async throws -> Response {
        struct Listing: Encodable {
            let size: Int64
            let quota: Int64
            let entries: [CacheEntryView]
        }
        let cache = try administeredCache()
        let limit = min(max(request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 100, 1), 10_000)
        let (size, quota) = await cache.usage()
        let entries = try await cache.entries(limit: limit).map(CacheEntryView.init)
        return try Self.json(Envelope(statusCode: 200, result: Listing(size: size, quota: quota, entries: entries)))
    }

    func pin(_ text: String, _ pinned: Bool) async throws -> Response {
        let key = try Self.key(text)
        guard try await administeredCache().setPinned(key, pinned) else { throw ProxError(.notFound, "no cached artifact with key \(key.hex)") }
        struct Pinned: Encodable {
            let key: String
            let pinned: Bool
        }
        return try Self.json(Envelope(statusCode: 200, result: Pinned(key: key.hex, pinned: pinned)))
    }

    func removeEntry(_ text: String) async throws -> Response {
        let key = try Self.key(text)
        guard try await administeredCache().remove(key) else { throw ProxError(.notFound, "no cached artifact with key \(key.hex)") }
        struct Removed: Encodable {
            let key: String
            let removed: Bool
        }
        return try Self.json(Envelope(statusCode: 200, result: Removed(key: key.hex, removed: true)))
    }

    /// `POST /api/admin/prune?max_bytes=N`: evicts least-recently-used unpinned entries
    /// until at most N bytes are cached.
    func prune(_ request: Request) async throws -> Response {
        struct Pruned: Encodable {
            let removedEntries: Int
            let freedBytes: Int64
            let size: Int64

            enum CodingKeys: String, CodingKey { case removedEntries = "removed_entries", freedBytes = "freed_bytes", size }
        }
        guard let text = request.uri.queryParameters["max_bytes"], let maxBytes = Int64(String(text)), maxBytes >= 0 else {
            throw ProxError.invalid("give the size to prune to in bytes: POST /api/admin/prune?max_bytes=5000000000")
        }
        let cache = try administeredCache()
        let (entries, bytes) = try await cache.prune(toSize: maxBytes)
        return try Self.json(Envelope(statusCode: 200, result: Pruned(removedEntries: entries, freedBytes: bytes, size: await cache.usage().size)))
    }

    func cancelBuild(_ text: String) async throws -> Response {
        let id = try BuildID(validating: text)
        guard let record = try await builds.cancel(id) else { throw ProxError(.notFound, "no build with id \(id)") }
        return try Self.json(Envelope(statusCode: 200, result: BuildView(record)))
    }
}
