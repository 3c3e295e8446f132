import Foundation

/// The module proxy protocol's formats: the GOPROXY list, path escaping, `@v/list` and
/// `.info` documents. Pure functions, shared by every ``ModuleProxyClient``.
public enum GoProxyFormat {
    /// One proxy of a GOPROXY list.
    public struct Entry: Sendable, Equatable {
        /// The proxy's base URL, without a trailing `/`.
        public let url: String
        /// True when the entry was followed by `|`: any error falls through to the next entry.
        public let fallThroughOnError: Bool

        public init(url: String, fallThroughOnError: Bool) {
            self.url = url
            self.fallThroughOnError = fallThroughOnError
        }
    }

    /// The proxies of a GOPROXY list: `file://` and `http(s)://` entries, separated by `,`
    /// (fall through to the next entry only when one answers "not found") or `|` (fall
    /// through on any error), as the go command reads them. `direct` and `off` cannot answer
    /// protocol queries and are skipped (the go command still sees the whole list when it
    /// builds); a list with no proxy left is refused.
    public static func entries(of goproxy: String) throws(ProxError) -> [Entry] {
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
        return entries
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

    /// The lines of an `@v/list` document, trimmed, without empty ones.
    public static func parseVersionList(_ body: [UInt8]) -> [String] {
        String(decoding: body, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private struct Info: Decodable {
        let version: String
        enum CodingKeys: String, CodingKey { case version = "Version" }
    }

    /// The `Version` of an `.info` (or `@latest`) document; an unreadable one is `.upstreamUnavailable`.
    public static func decodeInfo(_ body: [UInt8], what: String) throws(ProxError) -> String {
        do {
            return try JSONDecoder().decode(Info.self, from: Data(body)).version
        } catch {
            throw ProxError(.upstreamUnavailable, "module proxy answered \(what) with an unreadable .info document")
        }
    }
}
