import BuildCore
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Applies the ``AccessPolicy`` and `--client-request-rate` to every request, before its
/// route: 401 with `WWW-Authenticate` for a missing or wrong token, 429 with `Retry-After`
/// for a client over its request rate. Tokens are never logged or echoed.
struct ClientPolicyMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: AccessPolicy
    let identifier: ClientIdentifier
    let limiter: (any RequestRateLimiter)?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let area = AccessPolicy.area(of: request.uri.path)
        var accepted: String?
        switch area {
        case .internalAPI:
            return try await next(request, context)
        case .open:
            return try await next(request, context)
        case .admin:
            guard access.adminToken != nil else {
                throw ProxError(.notFound, "the admin API is off: start proxhub with --admin-token to use it")
            }
            accepted = access.accepted(request.headers, for: .admin)
            guard accepted != nil else {
                throw access.unauthorized(
                    AccessPolicy.token(in: request.headers) == nil
                        ? "the admin API needs the admin token: send Authorization: Bearer <admin token>"
                        : "wrong admin token: send the token proxhub was started with (--admin-token)",
                    headers: request.headers
                )
            }
        case .api:
            accepted = access.accepted(request.headers, for: .api)
            if access.isPrivate, accepted == nil {
                throw access.unauthorized(
                    AccessPolicy.token(in: request.headers) == nil
                        ? "this server is private: send a pull token as Authorization: Bearer <token> (curl -H 'Authorization: Bearer TOKEN' or curl -u :TOKEN)"
                        : "wrong pull token: ask this server's operator for a valid one (--pull-token)",
                    headers: request.headers
                )
            }
        }
        if let limiter {
            let client = identifier.client(peer: context.peer, headers: request.headers, acceptedToken: accepted)
            if let wait = await limiter.count(client) {
                throw ProxError(
                    .rateLimited,
                    "\(BuildLimits.describe(client)) is over its request rate (--client-request-rate): retry in \(wait) s",
                    retryAfter: wait
                )
            }
        }
        return try await next(request, context)
    }
}

extension RequestContext {
    /// The peer's address, when the context knows it (``ProxRequestContext`` does).
    var peer: SocketAddress? { (self as? any RemoteAddressRequestContext)?.remoteAddress }
}
