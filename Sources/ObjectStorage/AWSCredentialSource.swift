import AsyncHTTPClient
import BuildCore
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Where a hub's S3 credentials come from, asked before each request: fixed keys, or
/// temporary ones that a source refreshes before they expire (a role assumed with a web
/// identity token, a container's or an EC2 instance's role, a credentials file another
/// program rewrites).
///
/// ``fromEnvironment(_:client:)`` follows the order of AWS's SDKs (botocore's):
/// 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), fixed;
/// 2. `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN` (EKS IAM roles for service
///    accounts, GitHub Actions' OIDC, any OIDC issuer AWS trusts): the token, read again
///    at each refresh, exchanged at STS (`AssumeRoleWithWebIdentity`);
/// 3. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
///    `~/.aws/credentials`, when it exists), profile `AWS_PROFILE` (else `default`): read
///    again whenever the file changes;
/// 4. a container credentials endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS task
///    roles) or `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity, credential
///    helpers), with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `…_TOKEN_FILE`;
/// 5. the EC2 instance's role, from the instance metadata service (IMDSv2), unless
///    `AWS_EC2_METADATA_DISABLED=true`.
///
/// Temporary credentials are kept until five minutes before they expire
/// (``RefreshedCredentials``).
public struct AWSCredentialProvider: Sendable, Equatable, CustomStringConvertible {
    /// What the credentials are, for logs and errors (never the secret).
    public let description: String
    /// True for the instance metadata service, the source used when nothing else is set:
    /// a hub checks it answers before it starts, so a host without credentials learns so
    /// at once rather than at its first upload.
    public let isLastResort: Bool
    private let fetch: @Sendable () async throws(ProxError) -> AWSCredentials

    public init(_ description: String, isLastResort: Bool = false, fetch: @escaping @Sendable () async throws(ProxError) -> AWSCredentials) {
        self.description = description
        self.isLastResort = isLastResort
        self.fetch = fetch
    }

    /// The credentials to sign the next request with.
    public func credentials() async throws(ProxError) -> AWSCredentials { try await fetch() }

    public static func == (a: Self, b: Self) -> Bool { a.description == b.description }

    public static func fixed(_ credentials: AWSCredentials) -> AWSCredentialProvider {
        AWSCredentialProvider("access key \(credentials.accessKeyID)") { credentials }
    }

    /// Temporary credentials from `source`, refreshed before they expire.
    public static func refreshed(_ source: some TemporaryCredentialSource, isLastResort: Bool = false) -> AWSCredentialProvider {
        let refreshed = RefreshedCredentials(source)
        return AWSCredentialProvider(source.description, isLastResort: isLastResort) { () throws(ProxError) in try await refreshed.credentials() }
    }

    /// The first source the environment configures; nil only when none is and the instance
    /// metadata service is switched off (`AWS_EC2_METADATA_DISABLED=true`). Settings that
    /// are there but wrong (a role without a token file, a clear-text endpoint on another
    /// host, a missing profile) throw, naming the variable.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, client: HTTPClient = S3ObjectStore.defaultClient
    ) throws(ProxError) -> AWSCredentialProvider? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let keys = AWSCredentials.environment(environment) { return .fixed(keys) }
        if let tokenFile = value("AWS_WEB_IDENTITY_TOKEN_FILE") {
            guard let role = value("AWS_ROLE_ARN") else {
                throw ProxError.invalid("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set the ARN of the role to assume")
            }
            let source = try WebIdentityCredentials(
                tokenFile: tokenFile, roleARN: role, sessionName: value("AWS_ROLE_SESSION_NAME"), endpoint: value("AWS_ENDPOINT_URL_STS"),
                region: value("AWS_REGION") ?? value("AWS_DEFAULT_REGION"), client: client
            )
            _ = try source.token()  // an unreadable token file stops the start, with its reason
            return .refreshed(source)
        }
        let home = environment["HOME"].map { $0 + "/.aws/credentials" }
        if let path = value("AWS_SHARED_CREDENTIALS_FILE") ?? home.flatMap({ FileManager.default.fileExists(atPath: $0) ? $0 : nil }) {
            let profile = value("AWS_PROFILE") ?? "default"
            let file = SharedCredentialsFile(path: path, profile: profile)
            _ = try file.credentials()  // a missing file or profile stops the start, with its reason
            return AWSCredentialProvider("profile \(profile) of \(path)") { () throws(ProxError) in try file.credentials() }
        }
        let token = value("AWS_CONTAINER_AUTHORIZATION_TOKEN"), tokenFile = value("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
        if let relative = value("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            guard relative.hasPrefix("/"), !relative.contains("//"), relative.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw ProxError.invalid("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path such as /v2/credentials/ID, not \(relative)")
            }
            return .refreshed(try ContainerCredentials(uri: ContainerCredentials.ecsEndpoint + relative, token: token, tokenFile: tokenFile, client: client))
        }
        if let uri = value("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            return .refreshed(try ContainerCredentials(uri: uri, token: token, tokenFile: tokenFile, client: client))
        }
        if value("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return nil }
        let endpoint =
            value("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            ?? (value("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")?.lowercased() == "ipv6"
                ? InstanceMetadataCredentials.ipv6Endpoint : InstanceMetadataCredentials.defaultEndpoint)
        return .refreshed(try InstanceMetadataCredentials(endpoint: endpoint, client: client), isLastResort: true)
    }
}

/// Credentials that last for a while: the keys and when they expire.
public struct TemporaryCredentials: Sendable, Equatable {
    public var credentials: AWSCredentials
    /// nil when the source did not say.
    public var expires: Date?

    public init(_ credentials: AWSCredentials, expires: Date?) {
        self.credentials = credentials
        self.expires = expires
    }

    /// An `Expiration` as AWS writes it (`2026-12-02T17:00:00Z`, with or without fractions
    /// of a second).
    static func expiration(_ text: String?) -> Date? {
        guard let text else { return nil }
        return (try? Date(text, strategy: .iso8601)) ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}

/// Something that hands out temporary credentials: each `fetch()` asks it anew.
public protocol TemporaryCredentialSource: Sendable, CustomStringConvertible {
    func fetch() async throws(ProxError) -> TemporaryCredentials
}

/// A source's credentials, kept until five minutes before they expire (15 minutes when
/// the source gave no expiry). Requests that find them due share one fetch; when that
/// fetch fails the current credentials are used while they are still valid.
public actor RefreshedCredentials {
    public let source: any TemporaryCredentialSource
    private var current: (credentials: AWSCredentials, refreshAt: Date, expires: Date?)?
    private var inFlight: Task<TemporaryCredentials, any Error>?

    static let refreshBefore: TimeInterval = 300
    static let withoutExpiration: TimeInterval = 900

    public init(_ source: any TemporaryCredentialSource) {
        self.source = source
    }

    public func credentials(now: Date = Date()) async throws(ProxError) -> AWSCredentials {
        if let current, now < current.refreshAt { return current.credentials }
        let task: Task<TemporaryCredentials, any Error>
        if let inFlight {
            task = inFlight
        } else {
            let source = self.source
            task = Task { try await source.fetch() }
            inFlight = task
        }
        let result = await task.result
        if inFlight == task { inFlight = nil }
        switch result {
        case .success(let fetched):
            let refreshAt = fetched.expires.map { max(now, $0.addingTimeInterval(-Self.refreshBefore)) } ?? now.addingTimeInterval(Self.withoutExpiration)
            current = (fetched.credentials, refreshAt, fetched.expires)
            return fetched.credentials
        case .failure(let error):
            if let current, current.expires.map({ now < $0 }) ?? true { return current.credentials }
            throw error as? ProxError ?? ProxError(.unavailable, "\(source): \(error)")
        }
    }
}

/// Says whether `url` may carry credentials in the clear: http to a loopback address or
/// one of `linkLocal`; anything else must be https.
func isClearTextAllowed(_ url: URL, linkLocal: [String]) -> Bool {
    guard let host = url.host?.lowercased() else { return false }
    let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    return ["localhost", "::1"].contains(bare) || bare.hasPrefix("127.") || linkLocal.contains(bare)
}

/// What IAM allows in role and session names: letters, digits and `+=,.@_-`.
let iamNameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-".utf8)

/// Sends `request`: the answer's status and body (at most `limit` bytes).
func fetchResponse(_ request: HTTPClientRequest, client: HTTPClient, timeout: TimeAmount, limit: Int = 64 << 10, what: String) async throws(ProxError) -> (status: UInt, body: String) {
    do {
        let response = try await client.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: limit)
        return (response.status.code, String(buffer: body))
    } catch {
        throw ProxError(.unavailable, "cannot reach \(what): \(error)")
    }
}

/// The body of a 200 answer; any other status is an error naming `what`.
func fetchBody(_ request: HTTPClientRequest, client: HTTPClient, timeout: TimeAmount, limit: Int = 64 << 10, what: String) async throws(ProxError) -> String {
    let (status, body) = try await fetchResponse(request, client: client, timeout: timeout, limit: limit, what: what)
    guard status == 200 else { throw ProxError(.unauthorized, "\(what) answered \(status): \(body.prefix(300))") }
    return body
}

/// The `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}` document container
/// endpoints and the instance metadata service answer with.
struct CredentialDocument: Decodable {
    let AccessKeyId: String
    let SecretAccessKey: String
    let Token: String?
    let Expiration: String?
    /// The instance metadata service's outcome, `Success` when it gave credentials.
    let Code: String?
    let Message: String?

    static func parse(_ text: String, from what: String) throws(ProxError) -> TemporaryCredentials {
        guard let document = try? JSONDecoder().decode(Self.self, from: Data(text.utf8)) else {
            throw ProxError(.unauthorized, "\(what) sent no AccessKeyId and SecretAccessKey")
        }
        if let code = document.Code, code != "Success" {
            throw ProxError(.unauthorized, "\(what) did not give credentials: \(code) \(document.Message ?? "")")
        }
        guard !document.AccessKeyId.isEmpty, !document.SecretAccessKey.isEmpty else {
            throw ProxError(.unauthorized, "\(what) sent no AccessKeyId and SecretAccessKey")
        }
        return TemporaryCredentials(
            AWSCredentials(accessKeyID: document.AccessKeyId, secretAccessKey: document.SecretAccessKey, sessionToken: document.Token.flatMap { $0.isEmpty ? nil : $0 }),
            expires: TemporaryCredentials.expiration(document.Expiration)
        )
    }
}

/// Temporary credentials from a container credentials endpoint: `GET` it (with the
/// authorization token, when one is set) for the credential document.
public struct ContainerCredentials: TemporaryCredentialSource {
    /// Where ECS serves `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
    public static let ecsEndpoint = "http://169.254.170.2"
    public let uri: String
    let token: String?
    let tokenFile: String?
    let client: HTTPClient

    /// `uri` must be https, or http to a loopback address or the container platforms'
    /// own link-local endpoints (169.254.170.2, 169.254.170.23, fd00:ec2::23), as AWS's
    /// SDKs require: credentials never cross a network in the clear.
    public init(uri: String, token: String?, tokenFile: String?, client: HTTPClient) throws(ProxError) {
        guard let url = URL(string: uri), let scheme = url.scheme?.lowercased(), url.host != nil else {
            throw ProxError.invalid("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL: \(uri)")
        }
        guard scheme == "https" || (scheme == "http" && isClearTextAllowed(url, linkLocal: ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"])) else {
            throw ProxError.invalid(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address or 169.254.170.2/169.254.170.23: not \(uri)")
        }
        self.uri = uri
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.tokenFile = tokenFile.flatMap { $0.isEmpty ? nil : $0 }
        self.client = client
    }

    public var description: String { "the container credentials endpoint \(uri)" }

    public func fetch() async throws(ProxError) -> TemporaryCredentials {
        var request = HTTPClientRequest(url: uri)
        var authorization = token
        if authorization == nil, let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ProxError(.unauthorized, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile)")
            }
            authorization = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let body = try await fetchBody(request, client: client, timeout: .seconds(10), what: description)
        return try CredentialDocument.parse(body, from: description)
    }
}

/// The EC2 instance's role credentials, from the instance metadata service, version 2
/// only (a session token first, then the role's name and its credentials; IMDSv1's
/// unauthenticated GETs are not used). Each request waits at most 2 seconds, so a host
/// that is not on EC2 learns it quickly.
public struct InstanceMetadataCredentials: TemporaryCredentialSource {
    public static let defaultEndpoint = "http://169.254.169.254"
    public static let ipv6Endpoint = "http://[fd00:ec2::254]"
    public let endpoint: String
    let client: HTTPClient

    /// `endpoint` (`AWS_EC2_METADATA_SERVICE_ENDPOINT`) is http(s)://HOST[:PORT]; in the
    /// clear only to the service's own addresses or a loopback one.
    public init(endpoint: String, client: HTTPClient) throws(ProxError) {
        var trimmed = endpoint
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased(), url.host != nil, url.path.isEmpty, url.query == nil else {
            throw ProxError.invalid("AWS_EC2_METADATA_SERVICE_ENDPOINT must be http://HOST[:PORT], not \(endpoint)")
        }
        guard scheme == "https" || (scheme == "http" && isClearTextAllowed(url, linkLocal: ["169.254.169.254", "fd00:ec2::254"])) else {
            throw ProxError.invalid("AWS_EC2_METADATA_SERVICE_ENDPOINT must be https, or http to 169.254.169.254, fd00:ec2::254 or a loopback address: not \(endpoint)")
        }
        self.endpoint = trimmed
        self.client = client
    }

    public var description: String { "EC2 instance metadata at \(endpoint)" }

    public func fetch() async throws(ProxError) -> TemporaryCredentials {
        var tokenRequest = HTTPClientRequest(url: endpoint + "/latest/api/token")
        tokenRequest.method = .PUT
        tokenRequest.headers.add(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "21600")
        let token = try await fetchBody(tokenRequest, client: client, timeout: .seconds(2), limit: 4096, what: description)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ProxError(.unauthorized, "\(description) gave no session token")
        }
        let base = endpoint + "/latest/meta-data/iam/security-credentials/"
        var rolesRequest = HTTPClientRequest(url: base)
        rolesRequest.headers.add(name: "X-aws-ec2-metadata-token", value: token)
        let (status, roles) = try await fetchResponse(rolesRequest, client: client, timeout: .seconds(2), limit: 4096, what: description)
        if status == 404 {
            throw ProxError(.unauthorized, "\(description): this instance has no IAM role (attach an instance profile, or set other credentials)")
        }
        guard status == 200 else { throw ProxError(.unauthorized, "\(description) answered \(status): \(roles.prefix(300))") }
        // An IAM role name (so the name is safe in the path).
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), (1...128).contains(role.utf8.count),
            role.utf8.allSatisfy(iamNameCharacters.contains)
        else {
            throw ProxError(.unauthorized, "\(description) named no IAM role: \(roles.prefix(100).debugDescription)")
        }
        var request = HTTPClientRequest(url: base + role)
        request.headers.add(name: "X-aws-ec2-metadata-token", value: token)
        let body = try await fetchBody(request, client: client, timeout: .seconds(2), what: description)
        return try CredentialDocument.parse(body, from: "\(description) (role \(role))")
    }
}

/// A role assumed with a web identity token (OIDC): the token file's contents (read again
/// at each refresh: EKS and other issuers rotate it) are exchanged at STS with an
/// unsigned `AssumeRoleWithWebIdentity` for an hour's credentials.
public struct WebIdentityCredentials: TemporaryCredentialSource {
    public let tokenFile: String
    public let roleARN: String
    public let sessionName: String
    /// STS: `AWS_ENDPOINT_URL_STS`, else the region's (`AWS_REGION`), else us-east-1's.
    public let endpoint: String
    let client: HTTPClient

    public init(tokenFile: String, roleARN: String, sessionName: String?, endpoint: String?, region: String?, client: HTTPClient) throws(ProxError) {
        guard roleARN.hasPrefix("arn:"), (20...2048).contains(roleARN.utf8.count), roleARN.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ProxError.invalid("AWS_ROLE_ARN must be a role's ARN such as arn:aws:iam::123456789012:role/prox, not \(roleARN)")
        }
        let name = sessionName ?? "proxhub-\(Int(Date().timeIntervalSince1970))"
        guard (2...64).contains(name.utf8.count), name.utf8.allSatisfy(iamNameCharacters.contains) else {
            throw ProxError.invalid("AWS_ROLE_SESSION_NAME must be 2 to 64 of letters, digits and +=,.@_-, not \(name)")
        }
        let sts: String
        if var given = endpoint {
            while given.hasSuffix("/") { given.removeLast() }
            guard let url = URL(string: given), let scheme = url.scheme?.lowercased(), url.host != nil, url.path.isEmpty,
                scheme == "https" || (scheme == "http" && isClearTextAllowed(url, linkLocal: []))
            else {
                throw ProxError.invalid("AWS_ENDPOINT_URL_STS must be https://HOST[:PORT] (http only to a loopback address), not \(given)")
            }
            sts = given
        } else {
            let region = region ?? "us-east-1"
            guard !region.isEmpty, region.count <= 64, region.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }) else {
                throw ProxError.invalid("AWS_REGION must be a region name such as eu-west-1, not \(region)")
            }
            sts = "https://sts.\(region).amazonaws.com"
        }
        self.tokenFile = tokenFile
        self.roleARN = roleARN
        self.sessionName = name
        self.endpoint = sts
        self.client = client
    }

    public var description: String { "role \(roleARN) with the web identity token \(tokenFile)" }

    /// The token file's contents now.
    public func token() throws(ProxError) -> String {
        guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw ProxError(.unauthorized, "cannot read AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ProxError(.unauthorized, "AWS_WEB_IDENTITY_TOKEN_FILE \(tokenFile) is empty") }
        return token
    }

    public func fetch() async throws(ProxError) -> TemporaryCredentials {
        let form: [(String, String)] = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", try token()), ("DurationSeconds", "3600"),
        ]
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        request.headers.add(name: "Accept", value: "application/xml")
        request.body = .bytes(ByteBuffer(string: form.map { "\($0)=\(SigV4Signer.encode($1, slash: true))" }.joined(separator: "&")))
        let what = "STS at \(endpoint) (AssumeRoleWithWebIdentity for \(roleARN))"
        let (status, xml) = try await fetchResponse(request, client: client, timeout: .seconds(10), what: what)
        guard status == 200 else {
            // STS's own words: <Error><Code>InvalidIdentityToken</Code><Message>…</Message>.
            guard let code = S3ObjectStore.element("Code", in: xml) else { throw ProxError(.unauthorized, "\(what) answered \(status): \(xml.prefix(300))") }
            let message = S3ObjectStore.element("Message", in: xml).map(Self.unescaped) ?? ""
            throw ProxError(.unauthorized, "\(what) refused: \(code): \(message.prefix(500))")
        }
        guard let block = S3ObjectStore.element("Credentials", in: xml),
            let id = S3ObjectStore.element("AccessKeyId", in: block).map(Self.unescaped), !id.isEmpty,
            let secret = S3ObjectStore.element("SecretAccessKey", in: block).map(Self.unescaped), !secret.isEmpty
        else {
            throw ProxError(.unauthorized, "\(what) sent no Credentials")
        }
        let token = S3ObjectStore.element("SessionToken", in: block).map(Self.unescaped)
        return TemporaryCredentials(
            AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token.flatMap { $0.isEmpty ? nil : $0 }),
            expires: TemporaryCredentials.expiration(S3ObjectStore.element("Expiration", in: block))
        )
    }

    /// XML text with its five predefined entities replaced.
    static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}

/// A profile of an AWS shared credentials file (`aws_access_key_id`,
/// `aws_secret_access_key`, `aws_session_token`), read again whenever the file's
/// modification time or size changes: a program that rotates the keys rewrites it.
public final class SharedCredentialsFile: Sendable {
    public let path: String
    public let profile: String
    private let cached = Mutex<(stamp: [Int64], credentials: AWSCredentials)?>(nil)

    public init(path: String, profile: String) {
        self.path = path
        self.profile = profile
    }

    public func credentials() throws(ProxError) -> AWSCredentials {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw ProxError(.unauthorized, "cannot read the AWS credentials file \(path)")
        }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let stamp = [Int64(modified * 1_000_000), (attributes[.size] as? NSNumber)?.int64Value ?? -1]
        if let cached = cached.withLock({ $0 }), cached.stamp == stamp { return cached.credentials }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ProxError(.unauthorized, "cannot read the AWS credentials file \(path)")
        }
        let credentials = try Self.parse(text, profile: profile, path: path)
        cached.withLock { $0 = (stamp, credentials) }
        return credentials
    }

    /// The profile's keys from the file's INI text.
    static func parse(_ text: String, profile: String, path: String) throws(ProxError) -> AWSCredentials {
        var section: String?
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            values[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["aws_access_key_id"], !id.isEmpty, let secret = values["aws_secret_access_key"], !secret.isEmpty else {
            throw ProxError(.unauthorized, "the AWS credentials file \(path) has no aws_access_key_id and aws_secret_access_key in profile [\(profile)]")
        }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: values["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
