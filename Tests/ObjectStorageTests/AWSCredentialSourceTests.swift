import AsyncHTTPClient
import BuildCore
import Foundation
import ObjectStorage
import ProxTestSupport
import Testing

/// Where a hub's S3 credentials come from, against moto with authentication on: fixed
/// keys, a container credentials endpoint (a small HTTP server on 127.0.0.1), and a
/// shared credentials file that is rewritten while the store runs.
@Suite(.serialized) struct AWSCredentialSourceTests {
    static func store(_ server: S3TestServer, credentials: AWSCredentialProvider) throws -> S3ObjectStore {
        S3ObjectStore(
            configuration: try S3Configuration(
                storage: "s3://\(server.bucket)/creds", endpoint: server.endpoint, region: server.region, credentials: credentials,
                timeout: .seconds(60)))
    }

    static func profileFile(_ path: String, id: String, secret: String, profile: String = "builds") throws {
        let text = """
            # written by a credential helper
            [default]
            aws_access_key_id = AKIAOTHER
            aws_secret_access_key = other

            [\(profile)]
            aws_access_key_id = \(id)
            aws_secret_access_key = \(secret)
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func aCredentialsFileIsReadAgainWhenItChanges() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let path = Fixture.temporaryDirectory("prox-aws-file") + "/credentials"
        try Self.profileFile(path, id: server.accessKeyID, secret: server.secretAccessKey)
        let provider = try #require(try AWSCredentialProvider.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "builds"]))
        #expect(provider.description == "profile builds of \(path)")
        let store = try Self.store(server, credentials: provider)
        try await store.putData("keys/a.json", Array("{}".utf8), contentType: "application/json")
        // Rotated to a key the store does not know: refused; rotated back: accepted again.
        try Self.profileFile(path, id: server.accessKeyID, secret: "not-the-secret-any-more")
        do {
            try await store.putData("keys/b.json", Array("{}".utf8), contentType: "application/json")
            Issue.record("a rotated-away secret was accepted")
        } catch {
            #expect((error as? ProxError)?.message.contains("SignatureDoesNotMatch") == true, "\(error)")
        }
        try Self.profileFile(path, id: server.accessKeyID, secret: server.secretAccessKey)
        try await store.putData("keys/c.json", Array("{}".utf8), contentType: "application/json")
        #expect(try await store.getData("keys/c.json", limit: 100) == Array("{}".utf8))
        // A profile that is not there, or no file, stops the start with the reason.
        #expect(throws: ProxError.self) { try AWSCredentialProvider.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "nope"]) }
        #expect(throws: ProxError.self) { try AWSCredentialProvider.fromEnvironment(["AWS_SHARED_CREDENTIALS_FILE": path + ".missing"]) }
        #expect(try AWSCredentialProvider.fromEnvironment(["HOME": "/nonexistent"]) == nil, "nothing configured")
    }

    /// A container credentials endpoint: serves `credentials.json` (rewritable) and appends
    /// each request's Authorization header to `hits`.
    static let endpointScript = """
        import http.server, sys
        document, hits = sys.argv[1], sys.argv[2]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with open(hits, "a") as f:
                    f.write(self.headers.get("Authorization", "-") + "\\n")
                body = open(document, "rb").read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    @Test func containerCredentialsAreFetchedWithTheTokenAndKeptUntilTheyNearExpiry() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let directory = Fixture.temporaryDirectory("prox-aws-container")
        let document = directory + "/credentials.json", hits = directory + "/hits", script = directory + "/endpoint.py"
        try Self.endpointScript.write(toFile: script, atomically: true, encoding: .utf8)
        let expiration = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
        try #"{"AccessKeyId":"\#(server.accessKeyID)","SecretAccessKey":"\#(server.secretAccessKey)","Token":null,"Expiration":"\#(expiration)"}"#
            .write(toFile: document, atomically: true, encoding: .utf8)
        let endpoint = try PythonServer.launch(python: "python3", script: script, arguments: [document, hits], logPath: directory + "/log", timeout: .seconds(20))
        defer { endpoint.process.terminate(grace: .seconds(2)) }
        let uri = "http://127.0.0.1:\(endpoint.firstLine.trimmingCharacters(in: .whitespaces))/v2/credentials"
        let provider = try #require(
            try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "pod-token"]))
        let store = try Self.store(server, credentials: provider)
        try await store.putData("keys/a.json", Array("{}".utf8), contentType: "application/json")
        #expect(try await store.getData("keys/a.json", limit: 100) == Array("{}".utf8))
        #expect(try String(contentsOfFile: hits, encoding: .utf8) == "pod-token\n", "fetched once, with the token, for both requests")

        // Five minutes before expiry it fetches again; when that fails, valid ones are kept.
        let source = try ContainerCredentials(uri: uri, token: nil, tokenFile: nil, client: S3ObjectStore.defaultClient)
        let first = try await source.credentials()
        #expect(first.accessKeyID == server.accessKeyID)
        _ = try await source.credentials(now: Date().addingTimeInterval(3000))
        #expect(try String(contentsOfFile: hits, encoding: .utf8).split(separator: "\n").count == 2, "not yet due")
        try #"{"AccessKeyId":"AKIANEW","SecretAccessKey":"new","Expiration":"\#(expiration)"}"#.write(toFile: document, atomically: true, encoding: .utf8)
        #expect(try await source.credentials(now: Date().addingTimeInterval(3400)).accessKeyID == "AKIANEW")
        try "not json".write(toFile: document, atomically: true, encoding: .utf8)
        #expect(try await source.credentials(now: Date().addingTimeInterval(3500)).accessKeyID == "AKIANEW", "the refresh failed; still valid")
        await #expect(throws: ProxError.self) { try await source.credentials(now: Date().addingTimeInterval(3700)) }
    }

    @Test func credentialsNeverCrossANetworkInTheClear() throws {
        for uri in ["http://10.0.0.5/creds", "http://example.com/creds", "ftp://127.0.0.1/x", "not a url"] {
            #expect(throws: ProxError.self, "\(uri)") { try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri]) }
        }
        for uri in ["https://creds.example.com/v1", "http://169.254.170.2/v2/credentials/x", "http://127.0.0.1:8080/c"] {
            #expect(try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri]) != nil, "\(uri)")
        }
        // Keys in the environment come first.
        let keys = try #require(try AWSCredentialProvider.fromEnvironment([
            "AWS_ACCESS_KEY_ID": "AKIAKEYS", "AWS_SECRET_ACCESS_KEY": "s", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/c",
        ]))
        #expect(keys.description == "access key AKIAKEYS")
    }
}
