import BuildCore
import FileIO
import Foundation
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// HTTP semantics for serving an artifact: strong ETag, `Repr-Digest`, conditional
/// requests and single byte ranges.
enum ArtifactResponse {
    static let reprDigest = HTTPField.Name("Repr-Digest")!
    static let cacheHeader = HTTPField.Name("X-Prox-Cache")!
    static let keyHeader = HTTPField.Name("X-Prox-Cache-Key")!
    static let buildHeader = HTTPField.Name("X-Prox-Build-Id")!
    static let versionHeader = HTTPField.Name("X-Prox-Caddy-Version")!
    static let goVersionHeader = HTTPField.Name("X-Prox-Go-Version")!

    /// The headers that describe an artifact, on every answer about it (the file, a 304, a
    /// redirect to it).
    static func headers(_ record: ArtifactRecord, cache: String, buildID: String?) -> HTTPFields {
        var headers: HTTPFields = [:]
        headers[.eTag] = "\"\(record.digest)\""
        headers[reprDigest] = "sha-256=:\(base64(hex: record.digest)):"
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "no-cache"
        headers[.lastModified] = httpDate(record.createdAt)
        headers[cacheHeader] = cache
        headers[keyHeader] = record.key.hex
        headers[versionHeader] = record.build.caddyVersion.description
        headers[goVersionHeader] = record.build.settings.goVersion
        if let buildID { headers[buildHeader] = buildID }
        return headers
    }

    /// `302 Found` to `location` (the object in the bucket, or a CDN's copy), with the
    /// artifact's ETag, digest and cache headers: a client that checks digests (or only
    /// follows a HEAD's `Location`, as caddyserver.com's page does) has what it needs.
    static func redirect(_ record: ArtifactRecord, to location: String, cache: String, buildID: String?) -> Response {
        var headers = headers(record, cache: cache, buildID: buildID)
        headers[.location] = location
        headers[.acceptRanges] = nil
        headers[.contentLength] = "0"
        return Response(status: .found, headers: headers, body: .init())
    }

    static func make(
        _ record: ArtifactRecord, request: Request, fileName: String, cache: String, buildID: String?, verifyDigest: Bool,
        sendfileSlot: () async -> SendfileSlot?
    ) async throws -> Response {
        var headers = headers(record, cache: cache, buildID: buildID)
        let etag = "\"\(record.digest)\""
        headers[.contentType] = "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"\(fileName)\""

        if let inm = request.headers[.ifNoneMatch], matches(inm, etag: etag) {
            headers[.contentLength] = nil
            return Response(status: .notModified, headers: headers)
        }
        if verifyDigest {
            let (digest, _) = try await FileDigest.sha256(ofFileAt: record.path)
            guard digest == record.digest else {
                throw ProxError(.internal, "the cached artifact failed its digest check and was not sent; it will be rebuilt after eviction")
            }
        }
        var range: ClosedRange<Int64> = 0...(record.size - 1)
        var status = HTTPResponse.Status.ok
        if let rangeHeader = request.headers[.range], ifRangeAllows(request.headers[.ifRange], etag: etag) {
            switch parseRange(rangeHeader, size: record.size) {
            case .some(.some(let r)):
                range = r
                status = .partialContent
                headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(record.size)"
            case .some(.none):
                headers[.contentRange] = "bytes */\(record.size)"
                throw APIError(
                    ProxError(.invalidRequest, "range \(rangeHeader) is outside the artifact's \(record.size) bytes"),
                    id: buildID ?? RequestIdentifier.make(), headers: headers, status: .rangeNotSatisfiable
                )
            case .none:
                break  // unparseable or multiple ranges: send the whole file
            }
        }
        let count = range.upperBound - range.lowerBound + 1
        headers[.contentLength] = String(count)
        if request.method == .head {
            return Response(status: status, headers: headers, body: .init())
        }
        let file = try OpenArtifact(record: record)
        let served = range
        // On a connection with a SendfileHandler the body is sent with sendfile(2); otherwise
        // (no such handler in the pipeline, e.g. router tests) it is read in chunks.
        let slot = await sendfileSlot()
        let body = ResponseBody(contentLength: Int(count)) { writer in
            if let slot {
                guard let token = slot.enqueue(fd: file.fd, offset: served.lowerBound, count: count) else {
                    throw ProxError(.cancelled, "the connection closed before the artifact was sent")
                }
                do {
                    try await writer.write(token)
                } catch {
                    slot.discard(token: token)
                    throw error
                }
            } else {
                try await file.write(range: served, to: &writer)
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// `.some(.some(range))` for one satisfiable range, `.some(nil)` for an unsatisfiable
    /// one, nil to ignore the header (not bytes, malformed, or several ranges).
    static func parseRange(_ header: String, size: Int64) -> ClosedRange<Int64>?? {
        guard header.hasPrefix("bytes="), size > 0 else { return nil }
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
        let first = spec[..<dash], last = spec[spec.index(after: dash)...]
        if first.isEmpty {
            guard let suffix = Int64(last), suffix > 0 else { return last.isEmpty ? nil : .some(nil) }
            return .some(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int64(first), start >= 0 else { return nil }
        guard start < size else { return .some(nil) }
        if last.isEmpty { return .some(start...(size - 1)) }
        guard let end = Int64(last), end >= start else { return nil }
        return .some(start...min(end, size - 1))
    }

    static func matches(_ ifNoneMatch: String, etag: String) -> Bool {
        ifNoneMatch.split(separator: ",").contains { candidate in
            let c = candidate.trimmingCharacters(in: .whitespaces)
            return c == "*" || c == etag || c == "W/" + etag
        }
    }

    static func ifRangeAllows(_ ifRange: String?, etag: String) -> Bool {
        guard let ifRange else { return true }
        return ifRange.trimmingCharacters(in: .whitespaces) == etag
    }

    static func base64(hex: String) -> String {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return Data(bytes).base64EncodedString()
    }

    /// RFC 9110 date (`Sun, 06 Nov 1994 08:49:37 GMT`), without a formatter per response.
    static func httpDate(_ date: Date) -> String {
        httpDate(seconds: time_t(date.timeIntervalSince1970))
    }

    static func httpDate(seconds: time_t) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)  // C locale: English names
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
