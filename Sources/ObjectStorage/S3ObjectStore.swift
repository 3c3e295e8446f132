import AsyncHTTPClient
import BuildCore
import Crypto
import FileIO
import Foundation
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An ``ObjectStore`` over the S3 protocol: AsyncHTTPClient requests signed with
/// ``SigV4Signer``, path-style. Uploads send `x-amz-checksum-sha256` (the store refuses a
/// body that does not match it) and read the stored size back; objects larger than
/// ``S3Configuration/partSize`` go up as a multipart upload, one part in memory at a time,
/// each part with its own checksum, and an upload that fails is aborted so no parts are
/// left behind. Idempotent requests are retried twice on connection errors and 5xx.
public struct S3ObjectStore: ObjectStore {
    public let configuration: S3Configuration
    let client: HTTPClient
    let logger: Logger

    /// The client S3 requests go out on: a refused connection fails the request at once
    /// (``send`` retries it twice), rather than being retried by the pool until the request's
    /// deadline, so a store that is down is reported in about a second.
    public static let defaultClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(120)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init(configuration: S3Configuration, client: HTTPClient = S3ObjectStore.defaultClient, logger: Logger = Logger(label: "prox.s3")) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
    }

    public var location: String { configuration.location }

    // MARK: - ObjectStore

    public func putData(_ name: String, _ bytes: [UInt8], contentType: String) async throws(ProxError) {
        let digest = Array(SHA256.hash(data: bytes))
        let response = try await send(
            "PUT", name, headers: [("content-type", contentType), ("x-amz-checksum-sha256", Data(digest).base64EncodedString())],
            body: ByteBuffer(bytes: bytes), payloadHash: digest.hexString
        )
        try await expect(response, [200], doing: "storing \(name)")
    }

    public func putFile(_ name: String, path: String, sha256: String, size: Int64) async throws(ProxError) {
        let file = try ReadOnlyFile(path: path, what: "the artifact")
        guard file.size == size else {
            throw ProxError(.internal, "the file to upload as \(name) is \(file.size) bytes, not \(size)")
        }
        if size <= Int64(configuration.partSize) {
            let body = try await read(file, at: 0, length: Int(size))
            var hasher = SHA256()
            body.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            guard body.readableBytes == size, hasher.finalize().hexString == sha256 else {
                throw ProxError(.internal, "the file to upload as \(name) is not the bytes of SHA-256 \(sha256) (changed since it was hashed?): nothing was stored")
            }
            let response = try await send(
                "PUT", name,
                headers: [("content-type", "application/octet-stream"), ("x-amz-checksum-sha256", Self.base64(hex: sha256))],
                body: body, payloadHash: sha256
            )
            try await expect(response, [200], doing: "storing \(name)")
            try checkETag(response, of: body, name: name)
        } else {
            try await putMultipart(name, file: file, sha256: sha256, size: size)
        }
        // Read back what the store holds: a store that dropped or cut the object says so here.
        let stored = try await send("HEAD", name)
        try await expect(stored, [200], doing: "checking \(name) after upload")
        guard let length = stored.headers.first(name: "content-length").flatMap(Int64.init), length == size else {
            throw ProxError(.unavailable, "\(location) holds \(stored.headers.first(name: "content-length") ?? "no") bytes for \(name) after its upload, not \(size)")
        }
    }

    public func getFile(_ name: String, to path: String, limit: Int64) async throws(ProxError) -> (sha256: String, size: Int64)? {
        let response = try await send("GET", name)
        if response.status == .notFound { return nil }
        if response.status != .ok { try await expect(response, [200], doing: "reading \(name)") }  // throws
        do {
            let written = try await StagingFile.write(response.body, to: path, limit: limit)
            return (written.digest, written.size)
        } catch let error as ProxError where error.kind == .invalidRequest {
            throw ProxError(.invalidArtifact, "\(location) holds more than the expected \(limit) bytes for \(name)")
        } catch let error as ProxError {
            throw error
        } catch {
            throw ProxError(.unavailable, "\(location) did not send all of \(name): \(error)")
        }
    }

    public func getData(_ name: String, limit: Int) async throws(ProxError) -> [UInt8]? {
        let response = try await send("GET", name)
        if response.status == .notFound { return nil }
        if response.status != .ok { try await expect(response, [200], doing: "reading \(name)") }  // throws
        do {
            return Array(buffer: try await response.body.collect(upTo: limit))
        } catch {
            throw ProxError(.unavailable, "\(location) did not send \(name) whole (at most \(limit) bytes are read): \(error)")
        }
    }

    public func delete(_ name: String) async throws(ProxError) {
        let response = try await send("DELETE", name)
        try await expect(response, [200, 204, 404], doing: "removing \(name)")
    }

    /// The request signer, with the credentials to use now.
    func signer() async throws(ProxError) -> SigV4Signer {
        SigV4Signer(credentials: try await configuration.credentials.credentials(), region: configuration.region)
    }

    public func downloadURL(_ name: String, expires: Duration, fileName: String?) async -> String? {
        guard let signer = try? await signer() else { return nil }
        return signer.presignedURL(
            method: "GET", scheme: configuration.scheme, host: configuration.host, path: configuration.path(of: name),
            query: fileName.map { [("response-content-disposition", "attachment; filename=\"\($0)\"")] } ?? [], expires: expires, at: Date()
        )
    }

    // MARK: - Multipart

    private func putMultipart(_ name: String, file: ReadOnlyFile, sha256: String, size: Int64) async throws(ProxError) {
        let created = try await send("POST", name, query: [("uploads", "")], headers: [("x-amz-checksum-algorithm", "SHA256")])
        let createdBody = try await expect(created, [200], doing: "starting a multipart upload of \(name)")
        guard let uploadID = Self.element("UploadId", in: createdBody) else {
            throw ProxError(.unavailable, "\(location) started a multipart upload of \(name) without an UploadId")
        }
        do throws(ProxError) {
            var parts: [(number: Int, etag: String, checksum: String)] = []
            var whole = SHA256()
            var offset: Int64 = 0
            while offset < size {
                let number = parts.count + 1
                let body = try await read(file, at: offset, length: Int(min(Int64(configuration.partSize), size - offset)))
                guard body.readableBytes > 0 else { throw ProxError(.internal, "the file to upload as \(name) got shorter while it was read") }
                var hasher = SHA256()
                body.withUnsafeReadableBytes { hasher.update(bufferPointer: $0); whole.update(bufferPointer: $0) }
                let digest = Array(hasher.finalize())
                let checksum = Data(digest).base64EncodedString()
                let response = try await send(
                    "PUT", name, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                    headers: [("x-amz-checksum-sha256", checksum)], body: body, payloadHash: digest.hexString
                )
                try await expect(response, [200], doing: "uploading part \(number) of \(name)")
                guard let etag = response.headers.first(name: "etag") else {
                    throw ProxError(.unavailable, "\(location) answered part \(number) of \(name) without an ETag")
                }
                try checkETag(response, of: body, name: "part \(number) of \(name)")
                parts.append((number, etag, checksum))
                offset += Int64(body.readableBytes)
            }
            guard whole.finalize().hexString == sha256 else {
                throw ProxError(.internal, "the file to upload as \(name) is not the bytes of SHA-256 \(sha256) (changed since it was hashed?): nothing was stored")
            }
            let list = parts.map {
                "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(Self.xmlEscaped($0.etag))</ETag><ChecksumSHA256>\($0.checksum)</ChecksumSHA256></Part>"
            }
            let xml = Array(("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + list.joined() + "</CompleteMultipartUpload>").utf8)
            let completed = try await send(
                "POST", name, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")],
                body: ByteBuffer(bytes: xml), payloadHash: Array(SHA256.hash(data: xml)).hexString
            )
            let answer = try await expect(completed, [200], doing: "completing the multipart upload of \(name)")
            // S3 may answer 200 and then report a failure in the body.
            if let code = Self.element("Code", in: answer) {
                throw ProxError(.unavailable, "\(location) could not complete the multipart upload of \(name): \(code) \(Self.element("Message", in: answer) ?? "")")
            }
            logger.debug("multipart upload complete", metadata: ["object": "\(name)", "parts": "\(parts.count)"])
        } catch {
            _ = try? await send("DELETE", name, query: [("uploadId", uploadID)])
            throw error
        }
    }

    // MARK: - Requests

    /// Sends one signed request; retried (twice, after 0.2 s then 0.8 s) on connection errors
    /// and 5xx answers. POSTs that start or complete an upload are not retried.
    func send(
        _ method: String, _ name: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
        body: ByteBuffer? = nil, payloadHash: String = SigV4Signer.emptyPayloadHash
    ) async throws(ProxError) -> HTTPClientResponse {
        let path = configuration.path(of: name)
        let retries = method == "POST" ? 0 : 2
        var attempt = 0
        while true {
            let signed = try await signer().sign(
                .init(method: method, host: configuration.host, path: path, query: query, headers: headers + [("x-amz-content-sha256", payloadHash)], payloadHash: payloadHash),
                at: Date()
            )
            let queryText = SigV4Signer.canonicalQuery(query)
            var request = HTTPClientRequest(
                url: "\(configuration.scheme)://\(configuration.host)\(SigV4Signer.encode(path, slash: false))" + (queryText.isEmpty ? "" : "?" + queryText)
            )
            request.method = HTTPMethod(rawValue: method)
            for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
            if let body { request.body = .bytes(body) }
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(Int64(configuration.timeout.components.seconds) * 1_000_000_000))
                if response.status.code >= 500, attempt < retries {
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    attempt += 1
                    try? await Task.sleep(for: .milliseconds(200 << (2 * (attempt - 1))))
                    continue
                }
                return response
            } catch {
                if attempt < retries {
                    attempt += 1
                    try? await Task.sleep(for: .milliseconds(200 << (2 * (attempt - 1))))
                    continue
                }
                throw ProxError(.unavailable, "cannot reach the object store \(location) at \(configuration.scheme)://\(configuration.host): \(error)")
            }
        }
    }

    /// Reads the body (at most 1 MiB) of an answer whose status is one of `ok` and returns
    /// it; otherwise throws `.unavailable` with S3's error code and message. The body can be
    /// read once: a caller that streams it calls this only for a status it does not want.
    @discardableResult
    func expect(_ response: HTTPClientResponse, _ ok: Set<UInt>, doing what: String) async throws(ProxError) -> String {
        let body: String
        do {
            body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        } catch {
            throw ProxError(.unavailable, "\(location) broke off its answer while \(what): \(error)")
        }
        guard ok.contains(response.status.code) else {
            let code = Self.element("Code", in: body) ?? "HTTP \(response.status.code)"
            let message = Self.element("Message", in: body).map { ": \($0)" } ?? ""
            let hint = [401, 403].contains(response.status.code) ? " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, --s3-region and the bucket's policy)" : ""
            throw ProxError(.unavailable, "\(location) refused \(what): \(code)\(message)\(hint)")
        }
        return body
    }

    /// A store that names what it received by its MD5 (S3 without KMS encryption, MinIO,
    /// Ceph, Garage, moto) must have received exactly `body`; other ETags are not digests
    /// and are left to the store's own `x-amz-checksum-sha256` check.
    private func checkETag(_ response: HTTPClientResponse, of body: ByteBuffer, name: String) throws(ProxError) {
        guard var etag = response.headers.first(name: "etag") else { return }
        etag = etag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard etag.count == 32, etag.allSatisfy(\.isHexDigit) else { return }
        var md5 = Insecure.MD5()
        body.withUnsafeReadableBytes { md5.update(bufferPointer: $0) }
        let sent = md5.finalize().hexString
        guard etag.lowercased() == sent else {
            throw ProxError(.unavailable, "\(location) received other bytes than were sent for \(name) (its MD5 is \(etag), not \(sent))")
        }
    }

    private func read(_ file: ReadOnlyFile, at offset: Int64, length: Int) async throws(ProxError) -> ByteBuffer {
        do {
            return try await file.read(at: offset, length: length)
        } catch let error as ProxError {
            throw error
        } catch {
            throw ProxError(.internal, "cannot read the file to upload: \(error)")
        }
    }

    /// The text of the first `<name>…</name>` in an S3 XML answer.
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }

    static func xmlEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Base64 of the bytes a hex digest spells (`x-amz-checksum-sha256` wants base64).
    static func base64(hex: String) -> String {
        var bytes: [UInt8] = []
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c >= 0x61 ? c - 0x61 + 10 : c >= 0x41 ? c - 0x41 + 10 : c - 0x30
            if let h = high { bytes.append(h << 4 | v); high = nil } else { high = v }
        }
        return Data(bytes).base64EncodedString()
    }
}
