import AsyncHTTPClient
import BuildCore

/// The ``ModuleProxyClient`` that speaks to real proxies: each GOPROXY entry is an
/// `http(s)://` server or a `file://` directory laid out as the protocol's paths.
/// Entries are tried in order; after a `,` only a "not found" falls through to the next,
/// after a `|` any error does (``GoProxyFormat/entries(of:)``).
public struct ModuleProxy: ModuleProxyClient {
    public let goproxy: String
    public let entries: [GoProxyFormat.Entry]
    public var requestTimeout: Duration
    private let httpClient: HTTPClient

    public init(goproxy: String, httpClient: HTTPClient = .shared, requestTimeout: Duration = .seconds(30)) throws(ProxError) {
        self.entries = try GoProxyFormat.entries(of: goproxy)
        self.goproxy = goproxy
        self.httpClient = httpClient
        self.requestTimeout = requestTimeout
    }

    public func versionList(module: String) async throws(ProxError) -> [String]? {
        guard let body = try await fetch("\(GoProxyFormat.escape(module))/@v/list") else { return nil }
        return GoProxyFormat.parseVersionList(body)
    }

    public func info(module: String, version: String) async throws(ProxError) -> String? {
        guard let body = try await fetch("\(GoProxyFormat.escape(module))/@v/\(GoProxyFormat.escape(version)).info") else { return nil }
        return try GoProxyFormat.decodeInfo(body, what: "\(module)@\(version)")
    }

    public func goMod(module: String, version: String) async throws(ProxError) -> String? {
        guard let body = try await fetch("\(GoProxyFormat.escape(module))/@v/\(GoProxyFormat.escape(version)).mod") else { return nil }
        return String(decoding: body, as: UTF8.self)
    }

    public func latest(module: String) async throws(ProxError) -> String? {
        guard let body = try await fetch("\(GoProxyFormat.escape(module))/@latest") else { return nil }
        return try GoProxyFormat.decodeInfo(body, what: "\(module)@latest")
    }

    /// Fetches `relative` from the first entry that has it. Nil means every entry said "not found".
    func fetch(_ relative: String) async throws(ProxError) -> [UInt8]? {
        var lastError: ProxError?
        for entry in entries {
            let file = UpstreamFile(
                url: entry.url + "/" + relative, upstream: "module proxy \(GoProxyFormat.displayed(entry.url))", document: relative,
                timeout: requestTimeout, userAgent: "prox (module resolver)", httpClient: httpClient)
            do {
                if let body = try await file.fetch() { return body }
                lastError = nil
            } catch {
                if entry.fallThroughOnError { lastError = error; continue }
                throw error
            }
        }
        if let lastError { throw lastError }
        return nil
    }
}
