import BuildCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A ``ProxError`` as the official download API reports errors:
/// `{"status_code": N, "error": {"message": "...", "id": "<request or build id>"}}`.
public struct APIError: HTTPResponseError {
    public let error: ProxError
    public let id: String
    public let headers: HTTPFields
    private let statusOverride: HTTPResponse.Status?

    public init(_ error: ProxError, id: String, headers: HTTPFields = [:], status: HTTPResponse.Status? = nil) {
        self.error = error
        self.id = id
        self.headers = headers
        self.statusOverride = status
    }

    public var status: HTTPResponse.Status { statusOverride ?? Self.status(for: error.kind) }

    /// The one place error kinds become status codes.
    public static func status(for kind: ProxError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidRequest, .notListed, .moduleNotFound: .badRequest
        case .notFound: .notFound
        case .upstreamUnavailable: .badGateway
        case .buildFailed, .toolchainUnavailable: .unprocessableContent
        case .buildTimedOut, .invalidArtifact, .internal: .internalServerError
        case .cancelled, .unavailable: .serviceUnavailable
        case .insufficientStorage: .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .rateLimited: .tooManyRequests
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        }
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            let message: String
            let id: String
            let kind: String
        }
        let statusCode: Int
        let error: Detail

        enum CodingKeys: String, CodingKey { case statusCode = "status_code", error }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(statusCode: status.code, error: .init(message: error.message, id: id, kind: error.kind.rawValue))
        var headers = self.headers
        if let seconds = error.retryAfter { headers[.retryAfter] = String(seconds) }
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        let data = try JSONEncoder.prox.encode(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
