import AsyncHTTPClient
import BuildCore
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Where a hub's S3 credentials come from, asked before each request: fixed keys, or
/// temporary ones that a source refreshes before they expire (the instance roles of
/// container platforms, a credentials file another program rewrites).
///
/// ``fromEnvironment(_:)`` follows the order AWS's SDKs use for these sources:
/// 1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), fixed;
/// 2. `AWS_CONTAINER_CREDENTIALS_FULL_URI` (ECS task roles, EKS Pod Identity, credential
///    helpers), with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `…_TOKEN_FILE`: fetched, and
///    fetched again five minutes before they expire;
/// 3. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else
///    `~/.aws/credentials`, when it exists), profile `AWS_PROFILE` (else `default`): read
///    again whenever the file changes.
public struct AWSCredentialProvider: Sendable, Equatable, CustomStringConvertible {
    /// What the credentials are, for logs and errors (never the secret).
    public let description: String
    private let fetch: @Sendable () async throws(ProxError) -> AWSCredentials

    public init(_ description: String, fetch: @escaping @Sendable () async throws(ProxError) -> AWSCredentials) {
        self.description = description
        self.fetch = fetch
    }

    /// The credentials to sign the next request with.
    public func credentials() async throws(ProxError) -> AWSCredentials { try await fetch() }

    public static func == (a: Self, b: Self) -> Bool { a.description == b.description }

    public static func fixed(_ credentials: AWSCredentials) -> AWSCredentialProvider {
        AWSCredentialProvider("access key \(credentials.accessKeyID)") { credentials }
    }

    /// The first source the environment configures; nil when there is none.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, client: HTTPClient = S3ObjectStore.defaultClient
    ) throws(ProxError) -> AWSCredentialProvider? {
        if let keys = AWSCredentials.environment(environment) { return .fixed(keys) }
        if let uri = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !uri.isEmpty {
            let source = try ContainerCredentials(
                uri: uri, token: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], tokenFile: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"],
                client: client
            )
            return AWSCredentialProvider("AWS_CONTAINER_CREDENTIALS_FULL_URI \(uri)") { () throws(ProxError) in try await source.credentials() }
        }
        let home = environment["HOME"].map { $0 + "/.aws/credentials" }
        if let path = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap({ $0.isEmpty ? nil : $0 })
            ?? home.flatMap({ FileManager.default.fileExists(atPath: $0) ? $0 : nil })
        {
            let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
            let file = SharedCredentialsFile(path: path, profile: profile)
            _ = try file.credentials()  // a missing file or profile stops the start, with its reason
            return AWSCredentialProvider("profile \(profile) of \(path)") { () throws(ProxError) in try file.credentials() }
        }
        return nil
    }
}

/// Temporary credentials from a container credentials endpoint
/// (`AWS_CONTAINER_CREDENTIALS_FULL_URI`): `GET` it (with the authorization token, when
/// one is set) for `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`. They are
/// kept until five minutes before `Expiration` (15 minutes when there is none); a failed
/// refresh keeps the current ones while they are still valid.
public actor ContainerCredentials {
    public let uri: String
    let token: String?
    let tokenFile: String?
    let client: HTTPClient
    private var current: (credentials: AWSCredentials, refreshAt: Date, expires: Date?)?

    static let refreshBefore: TimeInterval = 300
    static let withoutExpiration: TimeInterval = 900

    /// `uri` must be https, or http to a loopback address or the container platforms'
    /// own link-local endpoints (169.254.170.2, 169.254.170.23, fd00:ec2::23), as AWS's
    /// SDKs require: credentials never cross a network in the clear.
    public init(uri: String, token: String?, tokenFile: String?, client: HTTPClient) throws(ProxError) {
        guard let url = URL(string: uri), let scheme = url.scheme?.lowercased(), let host = url.host else {
            throw ProxError.invalid("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL: \(uri)")
        }
        let local = ["127.0.0.1", "localhost", "::1", "[::1]", "169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]"]
        guard scheme == "https" || (scheme == "http" && (local.contains(host) || host.hasPrefix("127."))) else {
            throw ProxError.invalid(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address or 169.254.170.2/169.254.170.23: not \(uri)")
        }
        self.uri = uri
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.tokenFile = tokenFile.flatMap { $0.isEmpty ? nil : $0 }
        self.client = client
    }

    public func credentials(now: Date = Date()) async throws(ProxError) -> AWSCredentials {
        if let current, now < current.refreshAt { return current.credentials }
        do {
            let fetched = try await fetch()
            let expires = fetched.expires
            let refreshAt = expires.map { max(now, $0.addingTimeInterval(-Self.refreshBefore)) } ?? now.addingTimeInterval(Self.withoutExpiration)
            current = (fetched.credentials, refreshAt, expires)
            return fetched.credentials
        } catch {
            if let current, current.expires.map({ now < $0 }) ?? true { return current.credentials }
            throw error
        }
    }

    struct Document: Decodable {
        let AccessKeyId: String
        let SecretAccessKey: String
        let Token: String?
        let Expiration: String?
    }

    private func fetch() async throws(ProxError) -> (credentials: AWSCredentials, expires: Date?) {
        var request = HTTPClientRequest(url: uri)
        var authorization = token
        if authorization == nil, let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ProxError(.unauthorized, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile)")
            }
            authorization = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        let body: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            body = try await response.body.collect(upTo: 64 << 10)
            guard response.status == .ok else {
                throw ProxError(.unauthorized, "the container credentials endpoint \(uri) answered \(response.status.code): \(String(buffer: body).prefix(200))")
            }
        } catch let error as ProxError {
            throw error
        } catch {
            throw ProxError(.unavailable, "cannot reach the container credentials endpoint \(uri): \(error)")
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(body.readableBytesView)), !document.AccessKeyId.isEmpty,
            !document.SecretAccessKey.isEmpty
        else {
            throw ProxError(.unauthorized, "the container credentials endpoint \(uri) sent no AccessKeyId and SecretAccessKey")
        }
        let expires = document.Expiration.flatMap { try? Date($0, strategy: .iso8601) }
        return (AWSCredentials(accessKeyID: document.AccessKeyId, secretAccessKey: document.SecretAccessKey, sessionToken: document.Token), expires)
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
