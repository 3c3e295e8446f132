import BuildCore
import Crypto
import HTTPTypes
import Hummingbird
import NIOCore

/// The embedded web UI: the static files under `Sources/HTTPFront/UI`, compiled into the
/// binary (`.embedInCode`), served at `/` (the page) and `/ui/<file>` (its scripts,
/// stylesheet and icon). The page talks to the public API only.
///
/// Every response carries a strong ETag (the file's SHA-256) and `Cache-Control: no-cache`,
/// so browsers revalidate on each load and get `304 Not Modified` until proxhub is upgraded:
/// a page and its modules never come from two different versions.
struct WebAsset: Sendable {
    let contentType: String
    let body: ByteBuffer
    let etag: String

    init(_ bytes: [UInt8], contentType: String) {
        self.contentType = contentType
        self.body = ByteBuffer(bytes: bytes)
        self.etag = "\"" + SHA256.hash(data: bytes).hexString + "\""
    }
}

enum WebUI {
    /// The page, served at `/`.
    static let page = WebAsset(PackageResources.index_html, contentType: "text/html; charset=utf-8")

    /// Files under `/ui/`, by name.
    static let files: [String: WebAsset] = [
        "app.js": WebAsset(PackageResources.app_js, contentType: "text/javascript; charset=utf-8"),
        "api.js": WebAsset(PackageResources.api_js, contentType: "text/javascript; charset=utf-8"),
        "catalog.js": WebAsset(PackageResources.catalog_js, contentType: "text/javascript; charset=utf-8"),
        "log.js": WebAsset(PackageResources.log_js, contentType: "text/javascript; charset=utf-8"),
        "platform.js": WebAsset(PackageResources.platform_js, contentType: "text/javascript; charset=utf-8"),
        "style.css": WebAsset(PackageResources.style_css, contentType: "text/css; charset=utf-8"),
        "favicon.svg": WebAsset(PackageResources.favicon_svg, contentType: "image/svg+xml"),
    ]

    /// Only this server's own files and API: no inline script, no third-party origin.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

    static func response(_ asset: WebAsset, request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .eTag: asset.etag,
            .cacheControl: "no-cache",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "same-origin",
        ]
        if asset.contentType.hasPrefix("text/html") {
            headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        }
        if let match = request.headers[.ifNoneMatch], ArtifactResponse.matches(match, etag: asset.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.body.readableBytes)
        return Response(status: .ok, headers: headers, body: request.method == .head ? .init() : .init(byteBuffer: asset.body))
    }
}

extension ProxAPI {
    func addUIRoutes<Context: RequestContext>(to router: Router<Context>) {
        let page: @Sendable (Request, Context) async throws -> Response = { request, _ in WebUI.response(WebUI.page, request: request) }
        router.get("/", use: page)
        router.head("/", use: page)
        let file: @Sendable (Request, Context) async throws -> Response = { request, context in
            let name = try context.parameters.require("file")
            guard let asset = WebUI.files[name] else { throw ProxError(.notFound, "no such file: /ui/\(name)") }
            return WebUI.response(asset, request: request)
        }
        router.get("/ui/{file}", use: file)
        router.head("/ui/{file}", use: file)
    }
}
