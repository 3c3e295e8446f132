import AsyncHTTPClient
import BuildCore
import FileIO
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

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
