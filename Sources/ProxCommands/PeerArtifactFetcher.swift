import AsyncHTTPClient
import BuildCore
import FileIO
import Foundation
import HTTPFront
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
