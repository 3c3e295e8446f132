import AsyncHTTPClient
import BuildCore
import Foundation
import NIOCore
import NIOHTTP1

/// One document fetched from an upstream given as an `http(s)://` or `file://` URL: a
/// module proxy's file, the package catalog. ``ModuleProxy`` and the catalog read both
/// kinds of URL through it, so they read them the same way.
public struct UpstreamFile: Sendable {
    public let url: String
    /// The upstream as errors name it, e.g. `module proxy https://***@proxy.corp`.
    public let upstream: String
    /// The document as errors name it, e.g. `github.com/x/y/@v/list`.
    public let document: String
    public var timeout: Duration
    public var maxSize: Int
    public var userAgent: String
    public var accept: String?
    private let httpClient: HTTPClient

    public init(
        url: String, upstream: String, document: String, timeout: Duration = .seconds(30), maxSize: Int = 16 << 20,
        userAgent: String = "prox", accept: String? = nil, httpClient: HTTPClient = .shared
    ) {
        self.url = url
        self.upstream = upstream
        self.document = document
        self.timeout = timeout
        self.maxSize = maxSize
        self.userAgent = userAgent
        self.accept = accept
        self.httpClient = httpClient
    }

    /// The document's bytes, or nil when the upstream says it has none (a missing file;
    /// HTTP 404 or 410). Anything else that stops the fetch is `.upstreamUnavailable`.
    public func fetch() async throws(ProxError) -> [UInt8]? {
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProxError(.upstreamUnavailable, "cannot read \(path) (\(document)) from \(upstream)")
            }
            return Array(data)
        }
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: userAgent)
            if let accept { request.headers.add(name: "Accept", value: accept) }
            let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
            switch response.status.code {
            case 200:
                return Array(try await response.body.collect(upTo: maxSize).readableBytesView)
            case 404, 410:
                return nil
            default:
                throw ProxError(.upstreamUnavailable, "\(upstream) answered \(response.status.code) for \(document)")
            }
        } catch let error as ProxError {
            throw error
        } catch {
            throw ProxError(.upstreamUnavailable, "\(upstream) could not be reached for \(document): \(error)")
        }
    }
}

extension UpstreamFile {
    /// The document's bytes; an upstream that has none is `.upstreamUnavailable` too.
    public func fetchRequired() async throws(ProxError) -> [UInt8] {
        guard let body = try await fetch() else {
            throw ProxError(.upstreamUnavailable, "\(upstream) did not find \(document)")
        }
        return body
    }

    /// The package catalog at `endpoint` (`--package-endpoint`), as ``PackageCatalog`` reads it.
    public static func packageCatalog(at endpoint: String, httpClient: HTTPClient = .shared) -> UpstreamFile {
        UpstreamFile(
            url: endpoint, upstream: "package endpoint \(GoProxyFormat.displayed(endpoint))", document: "the package catalog",
            maxSize: 64 << 20, userAgent: "prox (package catalog)", accept: "application/json", httpClient: httpClient)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
