import BuildCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Signed provenance (docs/verifying.md): the hub's public keys, each artifact's in-toto
/// statement in a DSSE envelope, and minisign's signature of the binary; by build id and by
/// cache key. Downloads link to them (`Link: <...>; rel="provenance"`, `rel="signature"`).
extension ProxAPI {
    func addProvenanceRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/api/signing-key") { request, _ in try self.signingKeys(request) }
        router.get("/api/builds/{id}/provenance") { _, context in try await self.provenance(ofBuild: context.parameters.require("id")) }
        router.get("/api/builds/{id}/artifact.minisig") { _, context in try await self.minisig(ofBuild: context.parameters.require("id")) }
        router.get("/api/artifacts/{key}") { _, context in try await self.artifactInfo(context.parameters.require("key")) }
        router.get("/api/artifacts/{key}/provenance") { _, context in try await self.provenance(ofKey: context.parameters.require("key")) }
        router.get("/api/artifacts/{key}/minisig") { _, context in try await self.minisig(ofKey: context.parameters.require("key")) }
    }

    static let linkHeader = HTTPField.Name("Link")!

    /// The `Link` header value of an artifact's provenance and signature.
    func provenanceLinks(_ key: CacheKey) -> String? {
        guard attestor != nil else { return nil }
        return #"</api/artifacts/\#(key.hex)/provenance>; rel="provenance", </api/artifacts/\#(key.hex)/minisig>; rel="signature""#
    }

    /// `GET /api/signing-key`: every published key (the current one first) as JSON;
    /// `?format=minisign` or `?format=pem`: the current key alone, as that file.
    func signingKeys(_ request: Request) throws -> Response {
        let keys = try signer().publicKeys
        switch request.uri.queryParameters["format"].map(String.init) {
        case nil, "json":
            struct Key: Encodable {
                let id: String
                let current: Bool
                let minisign: String
                let pem: String
            }
            let listing = keys.enumerated().map { Key(id: $1.id, current: $0 == 0, minisign: $1.minisign, pem: $1.pem) }
            return try Self.json(Envelope(statusCode: 200, result: listing), cacheControl: "\(cacheScope), max-age=300")
        case "minisign":
            return Self.text(keys[0].minisignFile, type: "text/plain; charset=utf-8", fileName: "prox-\(keys[0].id).pub", cacheControl: "\(cacheScope), max-age=300")
        case "pem":
            return Self.text(keys[0].pem, type: "application/x-pem-file", fileName: "prox-\(keys[0].id).pem", cacheControl: "\(cacheScope), max-age=300")
        case let other?:
            throw ProxError.invalid("unknown format \(Platform.quoted(other)): use format=json, format=minisign or format=pem")
        }
    }

    func provenance(ofBuild id: String) async throws -> Response {
        try Self.envelope(try await attestation(of: try await builtArtifact(id)))
    }

    func minisig(ofBuild id: String) async throws -> Response {
        try await minisig(of: try await builtArtifact(id))
    }

    func provenance(ofKey text: String) async throws -> Response {
        try Self.envelope(try await attestation(of: try await cachedArtifact(text)))
    }

    func minisig(ofKey text: String) async throws -> Response {
        try await minisig(of: try await cachedArtifact(text))
    }

    private func minisig(of artifact: ArtifactRecord) async throws -> Response {
        let text = try await attestation(of: artifact).minisig
        return Self.text(
            text, type: "text/plain; charset=utf-8", fileName: artifact.build.platform.downloadFileName + ".minisig",
            cacheControl: "\(cacheScope), max-age=3600")
    }

    private func signer() throws(ProxError) -> any Attestor {
        guard let attestor else { throw ProxError(.notFound, "this server signs nothing") }
        return attestor
    }

    private func attestation(of artifact: ArtifactRecord) async throws -> SignedProvenance {
        try await signer().attestation(of: artifact)
    }

    /// A finished build's artifact: 404 while it is queued or running, or when it failed.
    private func builtArtifact(_ id: String) async throws -> ArtifactRecord {
        let record = try await record(id)
        guard record.state == .succeeded else {
            throw ProxError(.notFound, "build \(record.id) has no artifact (it is \(record.state.rawValue)): provenance exists for succeeded builds")
        }
        // Through the build service, as the artifact route does: in hub mode it fetches the
        // binary from the hub that has it.
        return try await builds.wait(for: record.id)
    }

    private func cachedArtifact(_ text: String) async throws -> ArtifactRecord {
        guard let key = CacheKey(hex: text) else {
            throw ProxError.invalid("bad cache key \(Platform.quoted(text)): give the 64 hex digits of X-Prox-Cache-Key")
        }
        guard let artifact = try await store.lookup(key) else { throw ProxError(.notFound, "no artifact is cached under \(text)") }
        return artifact
    }

    /// `GET /api/artifacts/{key}`: a cached artifact, its signing key and whether a rebuild
    /// from scratch reproduced it.
    func artifactInfo(_ text: String) async throws -> Response {
        let artifact = try await cachedArtifact(text)
        let signed = try await attestation(of: artifact)
        struct Info: Encodable {
            struct Check: Encodable {
                let state: String
                let rebuildSha256: String?
                let checkedAt: Date?
                let detail: String?
                enum CodingKeys: String, CodingKey { case state, rebuildSha256 = "rebuild_sha256", checkedAt = "checked_at", detail }
            }
            let key: String
            let sha256: String
            let size: Int64
            let fileName: String
            let target: String
            let caddyVersion: String
            let createdAt: Date
            let signingKey: String
            let reproduction: Check?
            let links: [String: String]
            enum CodingKeys: String, CodingKey {
                case key, sha256, size, fileName = "file_name", target, caddyVersion = "caddy_version", createdAt = "created_at"
                case signingKey = "signing_key", reproduction, links
            }
        }
        let base = "/api/artifacts/\(artifact.key.hex)"
        let info = Info(
            key: artifact.key.hex, sha256: artifact.digest, size: artifact.size, fileName: artifact.build.platform.downloadFileName,
            target: artifact.build.platform.description, caddyVersion: artifact.build.caddyVersion.description, createdAt: artifact.createdAt,
            signingKey: signed.keyID,
            reproduction: signed.reproduction.map {
                .init(state: $0.state.rawValue, rebuildSha256: $0.rebuildDigest, checkedAt: $0.checkedAt, detail: $0.detail)
            },
            links: ["provenance": base + "/provenance", "signature": base + "/minisig", "download": artifact.build.downloadPath]
        )
        return try Self.json(Envelope(statusCode: 200, result: info))
    }

    static let reproducedHeader = HTTPField.Name("X-Prox-Reproduced")!

    static func envelope(_ signed: SignedProvenance) throws -> Response {
        var response = try json(signed.envelope, cacheControl: "no-cache")
        response.headers[.contentType] = "application/vnd.dsse.envelope.v1+json"
        response.headers[HTTPField.Name("X-Prox-Signing-Key")!] = signed.keyID
        response.headers[reproducedHeader] = signed.reproduction?.headerValue ?? "unchecked"
        return response
    }

    /// Shared caches may keep what a public server signs; a private one's answers are the
    /// client's own.
    var cacheScope: String { options.access.isPrivate ? "private" : "public" }

    static func text(_ text: String, type: String, fileName: String, cacheControl: String) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: cacheControl]
        headers[.contentDisposition] = "inline; filename=\"\(fileName)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
