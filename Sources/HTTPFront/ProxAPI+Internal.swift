import BuildCore
import Crypto
import FileIO
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The hub's internal endpoints, for agents and other hubs; both need the push token.
///
/// - `PUT /api/internal/builds/{id}/artifact`: an agent delivers a build's binary. Headers:
///   `Authorization: Bearer <push token>`, `X-Prox-Sha256: <hex>`, `Content-Length`. The
///   body is streamed to a staging file, hashed on the way, checked (size, SHA-256,
///   executable format of the build's target), and only then committed to the cache.
/// - `GET /api/internal/artifacts/{key}`: this hub's cached artifact for a cache key, and
///   nothing else (no build, no fetch from elsewhere): how a hub gets an artifact pushed
///   to another hub.
extension ProxAPI {
    static let sha256Header = HTTPField.Name("X-Prox-Sha256")!

    func addInternalRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.put("/api/internal/builds/{id}/artifact") { request, context in
            try await self.receiveArtifact(request, id: context.parameters.require("id"), logger: context.logger)
        }
        router.get("/api/internal/artifacts/{key}") { request, context in
            try await self.internalArtifact(request, key: context.parameters.require("key"), sendfileSlot: { await context.sendfileSlot() })
        }
    }

    /// 401 without a bearer token, 403 with a wrong one or when this hub has none.
    func authorize(_ request: Request) throws(APIError) {
        guard let token = options.pushToken, !token.isEmpty else {
            throw APIError(ProxError(.forbidden, "this hub accepts no pushes: start it with --push-token (PB_PUSH_TOKEN) and give agents the same token"), id: "")
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError(
                ProxError(.unauthorized, "a push token is required: send Authorization: Bearer <token> (proxagent --push-token)"), id: "",
                headers: [.wwwAuthenticate: #"Bearer realm="prox""#]
            )
        }
        guard Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw APIError(ProxError(.forbidden, "the push token is wrong: give proxagent the hub's --push-token"), id: "")
        }
    }

    func receiveArtifact(_ request: Request, id: String, logger: Logger) async throws -> Response {
        try authorize(request)
        let record = try await record(id)
        guard let declared = request.headers[Self.sha256Header]?.lowercased(), CacheKey(hex: declared) != nil else {
            throw ProxError.invalid("X-Prox-Sha256 must be the artifact's SHA-256 as 64 lower-case hex digits")
        }
        guard let lengthText = request.headers[.contentLength], let length = Int64(lengthText), length > 0 else {
            throw APIError(ProxError.invalid("Content-Length is required (the artifact's size)"), id: id, status: .lengthRequired)
        }
        guard length <= options.maxArtifactSize else {
            throw APIError(
                ProxError(.insufficientStorage, "the artifact (\(length) bytes) is larger than this hub's cache quota (\(options.maxArtifactSize) bytes)"),
                id: id, status: .contentTooLarge
            )
        }
        let path = store.stagingDirectory + "/push-\(id)-\(UUID().uuidString.prefix(8))"
        let (digest, size, header) = try await StagingFile.write(request.body, to: path, limit: length)
        var committed = false
        defer { if !committed { unlink(path) } }
        guard size == length else {
            throw APIError(ProxError(.invalidArtifact, "the body was \(size) bytes, not the declared \(length): nothing was cached"), id: id, status: .badRequest)
        }
        guard digest == declared else {
            throw APIError(
                ProxError(.invalidArtifact, "the body's SHA-256 is \(digest), not the declared \(declared): nothing was cached"),
                id: id, status: .unprocessableContent
            )
        }
        if let problem = ExecutableFormat.check(header: header, for: record.build.platform) {
            throw APIError(ProxError(.invalidArtifact, "\(problem): nothing was cached"), id: id, status: .unprocessableContent)
        }
        committed = true  // commit owns the file from here, on success and failure
        let artifact = try await store.commit(key: record.key, build: record.build, file: path, expectedDigest: declared)
        // The hub signs what the agent pushed: the digest was checked above, the build list
        // is read from the binary itself. A failure does not refuse the artifact (it is made
        // again when first asked for).
        if let attestor {
            let run = ProvenanceStatement.Run(buildID: record.id, builder: record.worker.map { .agent($0) } ?? .unknown, startedOn: record.startedAt, finishedOn: Date())
            do {
                _ = try await attestor.attest(artifact, run: run)
            } catch {
                logger.error("cannot sign the provenance of a pushed artifact", metadata: ["build": "\(record.id)", "error": "\(error.message)"])
            }
        }
        struct Stored: Encodable {
            let key: String
            let sha256: String
            let size: Int64
        }
        return try Self.json(Envelope(statusCode: 201, result: Stored(key: artifact.key.hex, sha256: artifact.digest, size: artifact.size)), status: .created)
    }

    func internalArtifact(_ request: Request, key: String, sendfileSlot: () async -> SendfileSlot?) async throws -> Response {
        try authorize(request)
        guard let cacheKey = CacheKey(hex: key) else { throw ProxError.invalid("not a cache key: give 64 lower-case hex digits") }
        guard let artifact = try await store.lookup(cacheKey) else {
            throw ProxError(.notFound, "this hub has no artifact for key \(key)")
        }
        return try await ArtifactResponse.make(
            artifact, request: request, fileName: artifact.build.platform.downloadFileName, cache: "hit", buildID: nil, verifyDigest: options.verifyOnRead,
            sendfileSlot: sendfileSlot
        )
    }

    /// Compares secrets without an early exit: their SHA-256 digests (fixed length) are
    /// compared byte by byte, so the time taken says nothing about where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let x = Array(SHA256.hash(data: a)), y = Array(SHA256.hash(data: b))
        var difference: UInt8 = 0
        for index in 0..<x.count { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
