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

/// Turns any error thrown by a route into the official JSON error shape.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as ProxError {
            throw APIError(error, id: RequestIdentifier.make())
        } catch let error as HTTPError {
            let kind: ProxError.Kind =
                switch error.status.code {
                case 404: .notFound
                case 401: .unauthorized
                case 403: .forbidden
                case 400..<500: .invalidRequest
                default: .internal
                }
            let message = error.body ?? (error.status.code == 404 ? "no such endpoint: \(request.uri.path)" : error.status.reasonPhrase)
            throw APIError(ProxError(kind, message), id: RequestIdentifier.make(), headers: error.headers, status: error.status)
        } catch is NIOTooManyBytesError {
            throw APIError(
                ProxError(.invalidRequest, "the request body is too large: send at most 1 MiB of JSON"),
                id: RequestIdentifier.make(), status: .contentTooLarge
            )
        } catch let error as DecodingError {
            throw APIError(ProxError(.invalidRequest, "the JSON body is not valid: \(Self.describe(error))"), id: RequestIdentifier.make())
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "\(path): ") + c.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}

enum RequestIdentifier {
    /// `req-` and 12 hex digits: the id of an error that belongs to no build.
    static func make() -> String {
        "req-" + BuildID.random().rawValue.prefix(12)
    }
}
