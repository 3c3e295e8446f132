import Foundation

extension ResolvedBuild {
    /// `/api/download?...` with every version exact: the same binary, from any client.
    public var downloadPath: String {
        var items = [("os", platform.os), ("arch", platform.arch)]
        if let arm = platform.arm { items.append(("arm", String(arm))) }
        items += plugins.map { ("p", "\($0.path)@\($0.version)" + ($0.replacement.map { "=\($0)" } ?? "")) }
        items.append(("version", caddyVersion.description))
        return "/api/download?" + items.map { "\($0)=\(Self.percentEncode($1))" }.joined(separator: "&")
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
