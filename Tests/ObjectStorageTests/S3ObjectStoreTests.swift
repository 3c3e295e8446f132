import AsyncHTTPClient
import BuildCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ObjectStorage
import ProxTestSupport
import Testing

/// `S3ObjectStore` against a real S3 protocol server on 127.0.0.1 (moto, with request
/// authentication on: a wrong signature is refused as AWS refuses it).
@Suite(.serialized) struct S3ObjectStoreTests {
    static func store(_ server: S3TestServer, secret: String? = nil, prefix: String = "artifacts", partSize: Int = 5 << 20) throws -> S3ObjectStore {
        let credentials = AWSCredentials(accessKeyID: server.accessKeyID, secretAccessKey: secret ?? server.secretAccessKey)
        return S3ObjectStore(
            configuration: try S3Configuration(
                storage: "s3://\(server.bucket)/\(prefix)", endpoint: server.endpoint, region: server.region, credentials: credentials,
                partSize: partSize, timeout: .seconds(60)))
    }

    /// A file of `size` pseudo-random bytes; its path and SHA-256.
    static func file(size: Int, seed: UInt8 = 7) throws -> (path: String, sha256: String) {
        let path = Fixture.temporaryDirectory("prox-s3-file") + "/blob"
        var bytes = [UInt8](repeating: 0, count: size)
        var x = UInt32(seed) &* 2_654_435_761
        for i in bytes.indices {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5
            bytes[i] = UInt8(truncatingIfNeeded: x)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, SHA256.hash(data: bytes).hexString)
    }

    @Test func smallObjectsRoundTripAndMissingOnesAreNil() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let store = try Self.store(server)
        #expect(store.location == "s3://prox/artifacts")
        try await store.putData("keys/a.json", Array(#"{"a":1}"#.utf8), contentType: "application/json")
        #expect(try await store.getData("keys/a.json", limit: 1024) == Array(#"{"a":1}"#.utf8))
        #expect(try await store.getData("keys/none.json", limit: 1024) == nil)
        let target = Fixture.temporaryDirectory("prox-s3-get") + "/out"
        #expect(try await store.getFile("keys/none.json", to: target, limit: 100) == nil)
        // Objects live under the prefix: the same name under another prefix is another object.
        #expect(try await Self.store(server, prefix: "elsewhere").getData("keys/a.json", limit: 1024) == nil)
        try await store.delete("keys/a.json")
        #expect(try await store.getData("keys/a.json", limit: 1024) == nil)
        try await store.delete("keys/a.json")  // removing a missing object is no error
        // A body longer than the caller's limit is refused, not cut.
        try await store.putData("keys/big.json", [UInt8](repeating: 0x20, count: 4096), contentType: "application/json")
        await #expect(throws: ProxError.self) { try await store.getData("keys/big.json", limit: 100) }
    }

    @Test func filesGoUpWholeOrInPartsAndComeBackTheSame() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let store = try Self.store(server)
        // One PUT (under the part size), and a multipart upload of three parts (5 + 5 + 2 MiB).
        for (size, seed) in [(300_000, UInt8(1)), ((12 << 20) + 12345, UInt8(2))] {
            let (path, sha256) = try Self.file(size: size, seed: seed)
            try await store.putFile("blobs/sha256/\(sha256)", path: path, sha256: sha256, size: Int64(size))
            let target = Fixture.temporaryDirectory("prox-s3-get") + "/out"
            let got = try await store.getFile("blobs/sha256/\(sha256)", to: target, limit: Int64(size))
            #expect(got?.sha256 == sha256)
            #expect(got?.size == Int64(size))
            // An object larger than the caller expects is refused, not cut short.
            let short = Fixture.temporaryDirectory("prox-s3-get") + "/out"
            await #expect(throws: ProxError.self) { try await store.getFile("blobs/sha256/\(sha256)", to: short, limit: Int64(size - 1)) }
        }
        #expect(server.log.contains("uploadId="), "the large file went up as a multipart upload")
        // A file whose bytes are not the declared digest's is refused before it is sent (the
        // digest also goes as x-amz-checksum-sha256, which S3 itself checks).
        let (path, _) = try Self.file(size: 1000, seed: 3)
        let wrong = String(repeating: "ab", count: 32)
        await #expect(throws: ProxError.self) { try await store.putFile("blobs/sha256/\(wrong)", path: path, sha256: wrong, size: 1000) }
        #expect(try await store.getData("blobs/sha256/\(wrong)", limit: 2000) == nil, "nothing was stored under the wrong digest")
    }

    @Test func aWrongSignatureIsRefusedWithAMessageNamingTheCredentials() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let bad = try Self.store(server, secret: "not-the-secret")
        do {
            _ = try await bad.getData("keys/x.json", limit: 1024)
            Issue.record("a request signed with the wrong secret was answered")
        } catch {
            #expect(error.kind == .unavailable)
            #expect(error.message.contains("SignatureDoesNotMatch"))
            #expect(error.message.contains("AWS_SECRET_ACCESS_KEY"))
        }
        await #expect(throws: ProxError.self) { try await bad.putData("keys/x.json", [1], contentType: "application/json") }
    }

    /// moto's access control cannot check query-string authentication, so this runs on a
    /// server without it: it checks the URL's shape and that a plain GET of it gets the
    /// object. The signature itself is checked against S3's
    /// published presigned URL (SigV4SignerTests).
    @Test func presignedURLsWorkWithoutCredentials() async throws {
        let server = try S3TestServer(authentication: false)
        defer { server.stop() }
        let store = try Self.store(server)
        let (path, sha256) = try Self.file(size: 4096, seed: 9)
        try await store.putFile("blobs/sha256/\(sha256)", path: path, sha256: sha256, size: 4096)
        let url = try #require(await store.downloadURL("blobs/sha256/\(sha256)", expires: .seconds(300), fileName: "caddy"))
        #expect(url.hasPrefix(server.endpoint + "/prox/artifacts/blobs/sha256/\(sha256)?"))
        #expect(url.contains("X-Amz-Expires=300"))
        // The file name S3 sends back (moto ignores it), signed with the rest of the query.
        #expect(url.contains("&response-content-disposition=attachment%3B%20filename%3D%22caddy%22&X-Amz-Signature="))
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        #expect(response.status.code == 200)
        let body = try await response.body.collect(upTo: 1 << 20)
        #expect(SHA256.hash(data: Array(buffer: body)).hexString == sha256)
    }

    @Test func anUnreachableStoreIsUnavailable() async throws {
        let server = try S3TestServer()
        let store = try Self.store(server)
        server.stop()
        do {
            _ = try await store.getData("keys/x.json", limit: 1024)
            Issue.record("a stopped server answered")
        } catch {
            #expect(error.kind == .unavailable)
            #expect(error.message.contains("cannot reach the object store s3://prox/artifacts"))
        }
    }

    @Test func settingsAreCheckedWithMessagesNamingTheFlag() throws {
        let key = AWSCredentials(accessKeyID: "a", secretAccessKey: "b")
        let ok = try S3Configuration(storage: "s3://my-bucket/builds/caddy/", endpoint: "http://127.0.0.1:9000/", region: "us-east-1", credentials: key)
        #expect(ok.bucket == "my-bucket" && ok.prefix == "builds/caddy" && ok.host == "127.0.0.1:9000" && ok.scheme == "http")
        #expect(ok.location == "s3://my-bucket/builds/caddy")
        let aws = try S3Configuration(storage: "s3://my-bucket", endpoint: nil, region: "eu-west-1", credentials: key)
        #expect(aws.host == "s3.eu-west-1.amazonaws.com" && aws.scheme == "https" && aws.prefix == "")
        #expect(try S3Configuration(storage: "s3://abc", endpoint: "https://r2.example:443", region: "auto", credentials: key).host == "r2.example")
        for (storage, endpoint, region, flag) in [
            ("my-bucket", nil, "us-east-1", "--storage"), ("s3://", nil, "us-east-1", "--storage"), ("s3://ab", nil, "us-east-1", "--storage"),
            ("s3://Bucket", nil, "us-east-1", "--storage"), ("s3://b-b-b/../x", nil, "us-east-1", "--storage"),
            ("s3://b-b-b/a//b", nil, "us-east-1", "--storage"), ("s3://bbb/a b", nil, "us-east-1", "--storage"),
            ("s3://bbb", "ftp://x", "us-east-1", "--s3-endpoint"), ("s3://bbb", "http://x/path", "us-east-1", "--s3-endpoint"),
            ("s3://bbb", "http://", "us-east-1", "--s3-endpoint"), ("s3://bbb", nil, "US East", "--s3-region"),
        ] as [(String, String?, String, String)] {
            do {
                _ = try S3Configuration(storage: storage, endpoint: endpoint, region: region, credentials: key)
                Issue.record("\(storage) \(endpoint ?? "-") \(region) was accepted")
            } catch {
                #expect(error.kind == .invalidRequest)
                #expect(error.message.hasPrefix(flag), "\(error.message)")
            }
        }
    }
}
