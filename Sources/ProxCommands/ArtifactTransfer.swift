import AsyncHTTPClient
import BuildCore
import FileIO
import Foundation
import HTTPFront
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import QueueRedis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The agent's side of `PUT /api/internal/builds/{id}/artifact`: streams the file to the
/// hub with the push token and the digest the hub must find.
struct HubUploader: ArtifactDelivery {
    let hubURL: String
    let pushToken: String
    let timeout: Duration
    /// The system's roots, plus `--hub-ca` when given.
    var client: HTTPClient = .shared

    /// The HTTP client that trusts `ca` (PEM) besides the system's roots: one per CA file,
    /// kept for the life of the process. A file that is not a PEM certificate is an error
    /// naming the flag.
    static func client(trusting ca: String?) throws -> HTTPClient {
        guard let ca else { return .shared }
        return try clients.withLock { clients in
            if let existing = clients[ca] { return existing }
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(ca)
            } catch {
                throw ConfigurationError("--hub-ca/PB_HUB_CA \(ca): not a readable PEM certificate (\(error))")
            }
            guard !certificates.isEmpty else { throw ConfigurationError("--hub-ca/PB_HUB_CA \(ca): no certificate in the file") }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.certificates(certificates)]
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
            clients[ca] = client
            return client
        }
    }

    private static let clients = Mutex<[String: HTTPClient]>([:])

    func deliver(_ job: BuildJob, file: String, digest: String, size: Int64) async throws(ProxError) -> String {
        var request = HTTPClientRequest(url: hubURL + "/api/internal/builds/\(job.id)/artifact")
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer \(pushToken)")
        request.headers.add(name: "X-Prox-Sha256", value: digest)
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .stream(FileChunks(path: file), length: .known(size))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .init(timeout))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw ProxError(.unavailable, "cannot reach the hub at \(hubURL): \(error)")
        }
        guard response.status == .created || response.status == .ok else {
            let message = Self.errorMessage(body) ?? "HTTP \(response.status.code)"
            let kind: ProxError.Kind =
                switch response.status.code {
                case 401: .unauthorized
                case 403: .forbidden
                case 400, 404, 411, 413, 422, 507: .invalidArtifact
                default: .unavailable  // 5xx, proxies in between: worth retrying
                }
            throw ProxError(kind, "the hub at \(hubURL) refused the artifact: \(message)")
        }
        return hubURL
    }

    /// The `error.message` of Prox's JSON error shape.
    static func errorMessage(_ body: ByteBuffer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let error = object["error"] as? [String: Any]
        else { return nil }
        return error["message"] as? String
    }
}

/// The hub's side of getting an artifact pushed to another hub:
/// `GET <origin>/api/internal/artifacts/{key}`, checked against the recorded digest.
struct PeerArtifactFetcher: Sendable {
    let store: any ArtifactStore
    let pushToken: String?
    let maxSize: Int64
    let logger: Logger

    func fetch(origin: String, record: BuildRecord, digest: String) async throws(ProxError) -> ArtifactRecord? {
        guard let pushToken, !pushToken.isEmpty else {
            throw ProxError(.unavailable, "the artifact of build \(record.id) is on the hub at \(origin); fetching it needs --push-token on this hub")
        }
        var request = HTTPClientRequest(url: origin + "/api/internal/artifacts/\(record.key.hex)")
        request.headers.add(name: "Authorization", value: "Bearer \(pushToken)")
        let path = store.stagingDirectory + "/fetch-\(record.id)-\(UUID().uuidString.prefix(8))"
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
            if response.status == .notFound { return nil }
            guard response.status == .ok else {
                let message = HubUploader.errorMessage(try await response.body.collect(upTo: 1 << 20)) ?? "HTTP \(response.status.code)"
                throw ProxError(.unavailable, "the hub at \(origin) did not give the artifact of build \(record.id): \(message)")
            }
            _ = try await StagingFile.write(response.body, to: path, limit: maxSize)
        } catch let error as ProxError {
            unlink(path)
            throw error
        } catch {
            unlink(path)
            throw ProxError(.unavailable, "cannot fetch the artifact of build \(record.id) from the hub at \(origin): \(error)")
        }
        logger.info("fetched an artifact from another hub", metadata: ["build": "\(record.id)", "origin": "\(origin)"])
        return try await store.commit(key: record.key, build: record.build, file: path, expectedDigest: digest)
    }
}

/// A file's bytes as an async sequence of 256 KiB buffers, read on NIO's thread pool.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    var chunkSize = 256 * 1024

    struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let chunkSize: Int
        var file: ReadOnlyFile?
        var offset: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            if file == nil { file = try ReadOnlyFile(path: path, what: "the artifact") }
            let buffer = try await file!.read(at: offset, length: chunkSize)
            guard buffer.readableBytes > 0 else { return nil }
            offset += Int64(buffer.readableBytes)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path, chunkSize: chunkSize) }
}
