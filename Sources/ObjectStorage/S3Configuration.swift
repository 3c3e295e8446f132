import BuildCore

/// Where and how to reach an S3-compatible bucket: `--storage s3://BUCKET[/PREFIX]`,
/// `--s3-endpoint`, `--s3-region` and the `AWS_*` credentials. Requests use path-style
/// addressing (`<endpoint>/<bucket>/<key>`), which MinIO, Garage, Ceph RGW, R2 and AWS
/// all accept.
public struct S3Configuration: Sendable, Equatable {
    /// `http` or `https`.
    public var scheme: String
    /// The endpoint's host, with `:port` when it is not the scheme's default.
    public var host: String
    public var region: String
    public var bucket: String
    /// Key prefix inside the bucket, without slashes at either end; may be empty.
    public var prefix: String
    /// Asked before each request (fixed keys, or temporary ones refreshed by their source).
    public var credentials: AWSCredentialProvider
    /// Objects larger than this are uploaded in parts of this size (at least 5 MiB, S3's
    /// smallest part); each part is held in memory while it is sent.
    public var partSize: Int
    /// Time limit for one request (a part, a whole download).
    public var timeout: Duration

    public static let minimumPartSize = 5 << 20

    /// - Parameters:
    ///   - storage: `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    ///   - endpoint: `http(s)://HOST[:PORT]`; nil for AWS's regional endpoint.
    public init(
        storage: String, endpoint: String?, region: String, credentials: AWSCredentials,
        partSize: Int = 16 << 20, timeout: Duration = .seconds(300)
    ) throws(ProxError) {
        try self.init(storage: storage, endpoint: endpoint, region: region, credentials: .fixed(credentials), partSize: partSize, timeout: timeout)
    }

    public init(
        storage: String, endpoint: String?, region: String, credentials: AWSCredentialProvider,
        partSize: Int = 16 << 20, timeout: Duration = .seconds(300)
    ) throws(ProxError) {
        guard storage.hasPrefix("s3://") else {
            throw ProxError.invalid("--storage must be s3://BUCKET or s3://BUCKET/PREFIX, not \(storage)")
        }
        let rest = storage.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        var prefix = String(rest.dropFirst(bucket.count))
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        while prefix.hasSuffix("/") { prefix.removeLast() }
        guard Self.isBucketName(bucket) else {
            throw ProxError.invalid("--storage: \(bucket.isEmpty ? "the bucket name is missing" : "\(bucket) is not a bucket name") (3 to 63 of a-z, 0-9, '.' and '-', starting and ending with a letter or digit)")
        }
        guard prefix.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(Self.isPrefixSegment) || prefix.isEmpty else {
            throw ProxError.invalid("--storage: the prefix \(prefix) may hold only A-Z, a-z, 0-9, '.', '_', '-' and single '/' between parts")
        }
        guard Self.isRegion(region) else {
            throw ProxError.invalid("--s3-region must be a region name such as us-east-1 or auto, not \(region)")
        }
        guard partSize >= Self.minimumPartSize else {
            throw ProxError.invalid("the multipart part size must be at least 5 MiB (S3's smallest part)")
        }
        if let endpoint {
            let (scheme, host) = try Self.parseEndpoint(endpoint)
            self.scheme = scheme
            self.host = host
        } else {
            self.scheme = "https"
            self.host = "s3.\(region).amazonaws.com"
        }
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.credentials = credentials
        self.partSize = partSize
        self.timeout = timeout
    }

    /// `s3://bucket/prefix`, as logs and errors name it.
    public var location: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    /// The request path of object `name`: `/bucket/prefix/name`.
    func path(of name: String) -> String {
        "/\(bucket)/" + (prefix.isEmpty ? "" : prefix + "/") + name
    }

    static func parseEndpoint(_ text: String) throws(ProxError) -> (scheme: String, host: String) {
        var rest = Substring(text)
        let scheme: String
        if rest.hasPrefix("http://") {
            scheme = "http"
        } else if rest.hasPrefix("https://") {
            scheme = "https"
        } else {
            throw ProxError.invalid("--s3-endpoint must be http://HOST[:PORT] or https://HOST[:PORT], not \(text)")
        }
        rest = rest.dropFirst(scheme.count + 3)
        while rest.hasSuffix("/") { rest.removeLast() }
        let hostAndPort = String(rest)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        guard !hostAndPort.isEmpty, hostAndPort.allSatisfy(allowed.contains) else {
            throw ProxError.invalid("--s3-endpoint must be http(s)://HOST[:PORT] with no path (path-style addressing adds the bucket), not \(text)")
        }
        // The Host header (and so the signature) leaves out the scheme's default port.
        let defaultPort = scheme == "http" ? ":80" : ":443"
        return (scheme, hostAndPort.hasSuffix(defaultPort) ? String(hostAndPort.dropLast(defaultPort.count)) : hostAndPort)
    }

    static func isBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return false }
        func alnum(_ b: UInt8) -> Bool { (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) }
        return alnum(bytes.first!) && alnum(bytes.last!) && bytes.allSatisfy { alnum($0) || $0 == 0x2E || $0 == 0x2D }
    }

    static func isPrefixSegment(_ segment: Substring) -> Bool {
        !segment.isEmpty && segment != "." && segment != ".."
            && segment.utf8.allSatisfy { b in
                (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x5F || b == 0x2D
            }
    }

    static func isRegion(_ region: String) -> Bool {
        !region.isEmpty && region.count <= 64 && region.utf8.allSatisfy { b in (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D }
    }
}
