import BuildCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/api/session`: how the web UI of a private instance asks for the pull token once and
/// keeps it for the browser session, in an HttpOnly, SameSite=Strict cookie that every
/// same-origin request then carries (the log's EventSource and download links included,
/// which cannot send an `Authorization` header).
extension ProxAPI {
    func addSessionRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/api/session") { request, _ in try self.session(request) }
        router.post("/api/session") { request, _ in try await self.login(request) }
        router.delete("/api/session") { request, _ in try self.logout(request) }
    }

    /// `{"private": bool, "authorized": bool}`: whether the API needs a token, and whether
    /// this request carries one it accepts.
    func session(_ request: Request) throws -> Response {
        let authorized = !options.access.isPrivate || options.access.accepted(request.headers, for: .api) != nil
        return try Self.json(Envelope(statusCode: 200, result: ["private": options.access.isPrivate, "authorized": authorized]))
    }

    /// Takes `{"token": "..."}` (or the token in `Authorization`) and, when it is a pull or
    /// admin token, answers with the session cookie.
    func login(_ request: Request) async throws -> Response {
        struct Login: Decodable { let token: String }
        var headers = request.headers
        let body = try await request.body.collect(upTo: 1 << 20)
        if body.readableBytes > 0 {
            let login = try JSONDecoder().decode(Login.self, from: Data(body.readableBytesView))
            headers[.authorization] = "Bearer \(login.token)"
        }
        guard let token = options.access.accepted(headers, for: .api) else {
            throw options.access.unauthorized("wrong token: ask this server's operator for a pull token (--pull-token)", headers: [HTTPField.Name("X-Prox-UI")!: "1"])
        }
        let value = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        var response = try Self.json(Envelope(statusCode: 200, result: ["private": options.access.isPrivate, "authorized": true]))
        response.headers[.setCookie] = "\(AccessPolicy.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict\(secureAttribute(request))"
        return response
    }

    func logout(_ request: Request) throws -> Response {
        var response = try Self.json(Envelope(statusCode: 200, result: ["private": options.access.isPrivate, "authorized": !options.access.isPrivate]))
        response.headers[.setCookie] = "\(AccessPolicy.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\(secureAttribute(request))"
        return response
    }

    /// `; Secure` when the page came over https: proxhub's own, or a TLS-terminating proxy's.
    private func secureAttribute(_ request: Request) -> String {
        let forwardedHTTPS = request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
        return options.servesTLS || forwardedHTTPS ? "; Secure" : ""
    }
}
