import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A client for the Go module proxy protocol (`$GOPROXY/<module>/@v/list`, `@v/<version>.info`,
/// `@latest`) over a GOPROXY list: `file://` and `http(s)://` entries, separated by `,`
/// (fall through to the next entry only when one answers "not found") or `|` (fall through
/// on any error), as the go command reads them. `direct` and `off` entries cannot answer
/// protocol queries and are skipped; the go command still sees the full list when it builds.
public struct ModuleProxy: Sendable {
    public struct Entry: Sendable, Equatable {
        public let url: String
        /// True when the entry was followed by `|`: any error falls through to the next entry.
        public let fallThroughOnError: Bool
    }

    public let goproxy: String
    public let entries: [Entry]
    public var requestTimeout: Duration
    private let httpClient: HTTPClient

    public init(goproxy: String, httpClient: HTTPClient = .shared, requestTimeout: Duration = .seconds(30)) throws(ProxError) {
        var entries: [Entry] = []
        var current = ""
        func flush(_ pipe: Bool) throws(ProxError) {
            let item = current.trimmingCharacters(in: .whitespaces)
            current = ""
            guard !item.isEmpty, item != "direct", item != "off" else { return }
            guard let url = URL(string: item), let scheme = url.scheme, ["file", "http", "https"].contains(scheme) else {
                throw .invalid("GOPROXY entry \(Platform.quoted(item)) is not a file://, http:// or https:// URL")
            }
            entries.append(Entry(url: item.hasSuffix("/") ? String(item.dropLast()) : item, fallThroughOnError: pipe))
        }
        for ch in goproxy {
            if ch == "," || ch == "|" { try flush(ch == "|") } else { current.append(ch) }
        }
        try flush(false)
        guard !entries.isEmpty else {
            throw .invalid("GOPROXY \(Platform.quoted(goproxy)) has no module proxy: Prox resolves versions through a proxy; add one, e.g. https://proxy.golang.org,direct")
        }
        self.goproxy = goproxy
        self.entries = entries
        self.httpClient = httpClient
        self.requestTimeout = requestTimeout
    }

    /// `goproxy` as it may be shown to clients and in logs: any `user:password@` in its URLs
    /// (a private proxy's credentials) is replaced by `***@`.
    public static func displayed(_ goproxy: String) -> String {
        var out = ""
        var rest = Substring(goproxy)
        while let scheme = rest.range(of: "://") {
            out += rest[..<scheme.upperBound]
            rest = rest[scheme.upperBound...]
            let end = rest.firstIndex { $0 == "/" || $0 == "," || $0 == "|" } ?? rest.endIndex
            if let at = rest[..<end].lastIndex(of: "@") {
                out += "***"
                rest = rest[at...]
            }
        }
        return out + rest
    }

    /// Go's case encoding for proxy paths: each upper-case letter becomes `!` and its lower-case form.
    public static func escape(_ path: String) -> String {
        var out = ""
        for ch in path {
            if ch.isUppercase, ch.isASCII { out += "!" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    /// The versions listed by `@v/list`, or nil if no proxy knows the module.
    public func versionList(module: String) async throws(ProxError) -> [String]? {
        guard let body = try await fetch("\(Self.escape(module))/@v/list") else { return nil }
        return Self.parseVersionList(body)
    }

    /// The lines of an `@v/list` document, trimmed, without empty ones.
    public static func parseVersionList(_ body: [UInt8]) -> [String] {
        String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `@v/<version>.info`'s `Version`, or nil if no proxy has that version of the module.
    public func info(module: String, version: String) async throws(ProxError) -> String? {
        guard let body = try await fetch("\(Self.escape(module))/@v/\(Self.escape(version)).info") else { return nil }
        return try Self.decodeInfo(body, what: "\(module)@\(version)")
    }

    /// The `go.mod` of `module@version` (`@v/<version>.mod`), or nil if no proxy has it.
    public func goMod(module: String, version: String) async throws(ProxError) -> String? {
        guard let body = try await fetch("\(Self.escape(module))/@v/\(Self.escape(version)).mod") else { return nil }
        return String(decoding: body, as: UTF8.self)
    }

    /// `@latest`'s `Version`, or nil if no proxy answers it.
    public func latest(module: String) async throws(ProxError) -> String? {
        guard let body = try await fetch("\(Self.escape(module))/@latest") else { return nil }
        return try Self.decodeInfo(body, what: "\(module)@latest")
    }

    private struct Info: Decodable { let Version: String }

    /// The `Version` of an `.info` (or `@latest`) document; an unreadable one is `.upstreamUnavailable`.
    public static func decodeInfo(_ body: [UInt8], what: String) throws(ProxError) -> String {
        do {
            return try JSONDecoder().decode(Info.self, from: Data(body)).Version
        } catch {
            throw ProxError(.upstreamUnavailable, "module proxy answered \(what) with an unreadable .info document")
        }
    }

    /// Fetches `relative` from the first entry that has it. Nil means every entry said "not found".
    func fetch(_ relative: String) async throws(ProxError) -> [UInt8]? {
        var lastError: ProxError?
        for entry in entries {
            do {
                if let body = try await fetch(relative, from: entry) { return body }
                lastError = nil
            } catch {
                if entry.fallThroughOnError { lastError = error; continue }
                throw error
            }
        }
        if let lastError { throw lastError }
        return nil
    }

    private func fetch(_ relative: String, from entry: Entry) async throws(ProxError) -> [UInt8]? {
        let address = entry.url + "/" + relative
        if entry.url.hasPrefix("file://") {
            let path = String(address.dropFirst("file://".count))
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProxError(.upstreamUnavailable, "cannot read \(path) from the file:// module proxy")
            }
            return Array(data)
        }
        do {
            var request = HTTPClientRequest(url: address)
            request.headers.add(name: "User-Agent", value: "prox (module resolver)")
            let response = try await httpClient.execute(request, timeout: .init(requestTimeout))
            switch response.status.code {
            case 200:
                let buffer = try await response.body.collect(upTo: 16 << 20)
                return Array(buffer.readableBytesView)
            case 404, 410:
                return nil
            default:
                throw ProxError(.upstreamUnavailable, "module proxy \(Self.displayed(entry.url)) answered \(response.status.code) for \(relative)")
            }
        } catch let error as ProxError {
            throw error
        } catch {
            throw ProxError(.upstreamUnavailable, "module proxy \(Self.displayed(entry.url)) could not be reached for \(relative): \(error)")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
