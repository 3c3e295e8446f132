import BuildCore
import Crypto
import Foundation
import HTTPTypes
import HummingbirdWebSocket

/// Who may use which routes (issue 11).
/// - With pull tokens (`--pull-token`, several allowed) every `/api/` route, `/ws` and
///   `/metrics` needs
///   one (or the admin token): `Authorization: Bearer <token>`, or HTTP basic with any
///   user name and the token as password (`curl -u :TOKEN`). Without any, they are open.
/// - `/api/admin/` needs the admin token (`--admin-token`); without one it does not exist.
/// - `/healthz` and the web UI's files stay open (the UI asks for the token itself);
///   `/api/internal/` (agents) checks the push token on its own.
public struct AccessPolicy: Sendable, Equatable {
    public var pullTokens: [String]
    public var adminToken: String?

    public init(pullTokens: [String] = [], adminToken: String? = nil) {
        self.pullTokens = pullTokens.filter { !$0.isEmpty }
        self.adminToken = adminToken.flatMap { $0.isEmpty ? nil : $0 }
    }

    public var isPrivate: Bool { !pullTokens.isEmpty }

    enum Area { case open, api, admin, internalAPI }

    static func area(of path: String) -> Area {
        if path == "/api/session" { return .open }  // where the web UI learns it needs a token, and hands it in
        if path.hasPrefix("/api/internal/") { return .internalAPI }
        if path.hasPrefix("/api/admin/") || path == "/api/admin" { return .admin }
        // /metrics tells what the server builds and serves: on a private server, a scraper
        // sends a pull token (Prometheus's `authorization` setting).
        if path.hasPrefix("/api/") || path == "/api" || path == "/ws" || path == "/metrics" { return .api }
        return .open
    }

    /// The cookie the web UI's session keeps the token in (HttpOnly, SameSite=Strict).
    static let cookieName = "prox_token"

    /// The token a request carries: `Authorization: Bearer <token>`, or basic
    /// credentials' password (their user name when the password is empty), or the web
    /// UI's session cookie.
    static func token(in headers: HTTPFields) -> String? {
        guard let value = headers[.authorization] else { return cookieToken(in: headers) }
        let parts = value.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer":
            let token = parts[1].trimmingCharacters(in: .whitespaces)
            return token.isEmpty ? nil : token
        case "basic":
            guard let decoded = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)).map({ String(decoding: $0, as: UTF8.self) }),
                let colon = decoded.firstIndex(of: ":")
            else { return nil }
            let user = String(decoded[..<colon]), password = String(decoded[decoded.index(after: colon)...])
            let token = password.isEmpty ? user : password
            return token.isEmpty ? nil : token
        default:
            return nil
        }
    }

    static func cookieToken(in headers: HTTPFields) -> String? {
        for cookie in headers[values: .cookie].flatMap({ $0.split(separator: ";") }) {
            let pair = cookie.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0] == cookieName, let token = pair[1].removingPercentEncoding, !token.isEmpty { return token }
        }
        return nil
    }

    /// Compares in time that depends on neither the tokens' contents nor where they differ.
    static func matches(_ given: String, _ expected: String) -> Bool {
        let a = SHA256.hash(data: Data(given.utf8)), b = SHA256.hash(data: Data(expected.utf8))
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// The token of `headers` if it is one this server accepts for `area`.
    func accepted(_ headers: HTTPFields, for area: Area) -> String? {
        guard let token = Self.token(in: headers) else { return nil }
        var accepted = false
        if let adminToken, Self.matches(token, adminToken) { accepted = true }
        if area != .admin {
            for pull in pullTokens where Self.matches(token, pull) { accepted = true }  // every one compared
        }
        return accepted ? token : nil
    }

    func unauthorized(_ message: String, headers request: HTTPFields) -> APIError {
        var headers: HTTPFields = [.wwwAuthenticate: #"Bearer realm="Prox""#]
        // The web UI asks for the token itself; a browser's own basic-auth prompt would get in its way.
        if request[.init("X-Prox-UI")!] == nil { headers.append(HTTPField(name: .wwwAuthenticate, value: #"Basic realm="Prox", charset="UTF-8""#)) }
        return APIError(ProxError(.unauthorized, message), id: RequestIdentifier.make(), headers: headers)
    }
}
