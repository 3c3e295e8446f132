/// `--download-redirect`: how a cache hit on `/api/download` is answered when artifacts
/// live in a bucket.
public enum DownloadRedirectSetting: Sendable, Equatable {
    /// The hub sends the bytes (default).
    case off
    /// A redirect to a presigned URL of the object, valid for `--download-redirect-ttl`.
    case presigned
    /// A redirect to `<base>/blobs/sha256/<digest>`: a CDN (or a public bucket) in front
    /// of the bucket's prefix.
    case baseURL(String)

    init(parsing text: String) throws(ConfigurationError) {
        switch text {
        case "", "off", "false": self = .off
        case "presigned": self = .presigned
        default:
            var base = text
            while base.hasSuffix("/") { base.removeLast() }
            guard base.hasPrefix("https://") || base.hasPrefix("http://"), base.count > "https://".count,
                !base.contains("?"), !base.contains("#"), !base.contains(where: { $0.isWhitespace || $0 == "\"" })
            else {
                throw ConfigurationError(
                    "--download-redirect/PB_DOWNLOAD_REDIRECT must be off, presigned, or a CDN's base URL such as https://cdn.example.com/prox (objects are at <base>/blobs/sha256/<digest>), not \(text.debugDescription)"
                )
            }
            self = .baseURL(base)
        }
    }
}
