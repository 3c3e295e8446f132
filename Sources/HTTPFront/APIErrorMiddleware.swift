import BuildCore
import Hummingbird
import NIOCore

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
