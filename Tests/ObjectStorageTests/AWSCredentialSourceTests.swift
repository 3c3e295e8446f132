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
    }

    /// The credential endpoints AWS runs, on 127.0.0.1, serving `credentials.json`
    /// (rewritable) and appending one line per request to `hits`:
    /// - a container credentials endpoint: `GET /v2/credentials` (the line: its
    ///   Authorization header);
    /// - the EC2 instance metadata service, IMDSv2 only: `PUT /latest/api/token`, then the
    ///   role's name and its credentials with that token (401 without it);
    /// - STS's `AssumeRoleWithWebIdentity`: `POST /`, unsigned, for role `argv[3]` with the
    ///   token `argv[4]` (the token file holds it at first), or STS's XML error. The credentials are moto's own, from
    ///   an `AssumeRole` of that role signed with the S3 server's key, so the bucket checks
    ///   them, session token included.
    static let endpointScript = """
        import boto3, http.server, json, sys, urllib.parse
        document, hits, role, expected_token, moto, key, secret, region = sys.argv[1:9]
        def xml_escape(text):
            return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        class Handler(http.server.BaseHTTPRequestHandler):
            def hit(self, line):
                with open(hits, "a") as f:
                    f.write(line + "\\n")
            def answer(self, status, body, kind="application/json"):
                body = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def do_PUT(self):
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                self.hit("PUT " + self.path + " ttl=" + str(ttl))
                if self.path != "/latest/api/token" or not ttl:
                    return self.answer(400, "")
                self.answer(200, "imds-session-token", "text/plain")
            def do_GET(self):
                if self.path == "/v2/credentials":
                    self.hit(self.headers.get("Authorization", "-"))
                    return self.answer(200, open(document).read())
                token = self.headers.get("X-aws-ec2-metadata-token")
                self.hit("GET " + self.path + " token=" + str(token))
                if token != "imds-session-token":
                    return self.answer(401, "")
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    return self.answer(200, "prox-instance-role", "text/plain")
                if self.path == base + "prox-instance-role":
                    credentials = json.load(open(document))
                    credentials.update({"Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2026-12-02T00:00:00Z"})
                    return self.answer(200, json.dumps(credentials))
                self.answer(404, "")
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode(), strict_parsing=True)
                get = lambda name: form.get(name, [""])[0]
                self.hit("POST " + get("Action") + " " + get("RoleArn") + " " + get("RoleSessionName") + " signed=" + str("Authorization" in self.headers))
                if get("Action") != "AssumeRoleWithWebIdentity" or get("Version") != "2011-06-15" or "Authorization" in self.headers:
                    return self.answer(400, "<ErrorResponse><Error><Code>InvalidAction</Code><Message>not a web identity request</Message></Error></ErrorResponse>", "text/xml")
                if get("RoleArn") != role or get("WebIdentityToken") != expected_token:
                    return self.answer(400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn&apos;t validate the token &amp; role</Message></Error></ErrorResponse>", "text/xml")
                sts = boto3.client("sts", endpoint_url=moto, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret)
                c = sts.assume_role(RoleArn=role, RoleSessionName=get("RoleSessionName"), DurationSeconds=int(get("DurationSeconds")))["Credentials"]
                body = ("<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                        + "<AccessKeyId>" + xml_escape(c["AccessKeyId"]) + "</AccessKeyId>"
                        + "<SecretAccessKey>" + xml_escape(c["SecretAccessKey"]) + "</SecretAccessKey>"
                        + "<SessionToken>" + xml_escape(c["SessionToken"]) + "</SessionToken>"
                        + "<Expiration>" + c["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ") + "</Expiration>"
                        + "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>")
                self.answer(200, body, "text/xml")
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    /// The endpoints above, serving `server`'s key valid for an hour.
    struct Endpoints {
        let directory: String
        let document: String
        let hits: String
        let tokenFile: String
        let role: String
        let url: String
        let process: Process
        let output: FileHandle

        init(_ server: S3TestServer) throws {
            directory = Fixture.temporaryDirectory("prox-aws-endpoints")
            document = directory + "/credentials.json"
            hits = directory + "/hits"
            tokenFile = directory + "/token"
            role = server.roleARN ?? "arn:aws:iam::123456789012:role/none"
            let script = directory + "/endpoints.py"
            try AWSCredentialSourceTests.endpointScript.write(toFile: script, atomically: true, encoding: .utf8)
            try Self.write(document, id: server.accessKeyID, secret: server.secretAccessKey)
            try "eks-token-1\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
            let launched = try PythonServer.launch(
                python: Fixture.python, script: script,
                arguments: [document, hits, role, "eks-token-1", server.endpoint, server.accessKeyID, server.secretAccessKey, server.region],
                logPath: directory + "/log", timeout: .seconds(20))
            process = launched.process
            output = launched.output
            url = "http://127.0.0.1:\(launched.firstLine.trimmingCharacters(in: .whitespaces))"
        }

        static func write(_ path: String, id: String, secret: String, expires: Date = Date().addingTimeInterval(3600)) throws {
            let expiration = ISO8601DateFormatter().string(from: expires)
            try #"{"AccessKeyId":"\#(id)","SecretAccessKey":"\#(secret)","Token":null,"Expiration":"\#(expiration)"}"#
                .write(toFile: path, atomically: true, encoding: .utf8)
        }

        var lines: [String] { ((try? String(contentsOfFile: hits, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

        func stop() { process.terminate(grace: .seconds(2)) }
    }

    @Test func containerCredentialsAreFetchedWithTheTokenAndKeptUntilTheyNearExpiry() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let endpoints = try Endpoints(server)
        defer { endpoints.stop() }
        let uri = endpoints.url + "/v2/credentials"
        let provider = try #require(
            try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "pod-token"]))
        #expect(!provider.isLastResort)
        let store = try Self.store(server, credentials: provider)
        try await store.putData("keys/a.json", Array("{}".utf8), contentType: "application/json")
        #expect(try await store.getData("keys/a.json", limit: 100) == Array("{}".utf8))
        #expect(endpoints.lines == ["pod-token"], "fetched once, with the token, for both requests")

        // Five minutes before expiry it fetches again; when that fails, valid ones are kept.
        let source = RefreshedCredentials(try ContainerCredentials(uri: uri, token: nil, tokenFile: nil, client: S3ObjectStore.defaultClient))
        let first = try await source.credentials()
        #expect(first.accessKeyID == server.accessKeyID)
        _ = try await source.credentials(now: Date().addingTimeInterval(3000))
        #expect(endpoints.lines.count == 2, "not yet due")
        try Endpoints.write(endpoints.document, id: "AKIANEW", secret: "new")
        #expect(try await source.credentials(now: Date().addingTimeInterval(3400)).accessKeyID == "AKIANEW")
        try "not json".write(toFile: endpoints.document, atomically: true, encoding: .utf8)
        #expect(try await source.credentials(now: Date().addingTimeInterval(3500)).accessKeyID == "AKIANEW", "the refresh failed; still valid")
        await #expect(throws: ProxError.self) { try await source.credentials(now: Date().addingTimeInterval(3700)) }
    }

    @Test func requestsThatFindCredentialsDueShareOneFetch() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let endpoints = try Endpoints(server)
        defer { endpoints.stop() }
        let source = RefreshedCredentials(try ContainerCredentials(uri: endpoints.url + "/v2/credentials", token: "t", tokenFile: nil, client: S3ObjectStore.defaultClient))
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await source.credentials().accessKeyID } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(keys == Array(repeating: server.accessKeyID, count: 20))
        #expect(endpoints.lines == ["t"], "one fetch for twenty requests")
    }

    @Test func theInstanceRoleComesFromIMDSv2WithASessionToken() async throws {
        let server = try S3TestServer()
        defer { server.stop() }
        let endpoints = try Endpoints(server)
        defer { endpoints.stop() }
        // Nothing else set: the instance metadata service is the last source.
        let provider = try #require(try AWSCredentialProvider.fromEnvironment(["HOME": "/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoints.url]))
        #expect(provider.isLastResort)
        #expect(provider.description == "EC2 instance metadata at \(endpoints.url)")
        let store = try Self.store(server, credentials: provider)
        try await store.putData("keys/imds.json", Array("{}".utf8), contentType: "application/json")
        #expect(try await store.getData("keys/imds.json", limit: 100) == Array("{}".utf8))
        #expect(endpoints.lines == [
            "PUT /latest/api/token ttl=21600",
            "GET /latest/meta-data/iam/security-credentials/ token=imds-session-token",
            "GET /latest/meta-data/iam/security-credentials/prox-instance-role token=imds-session-token",
        ], "IMDSv2: a session token first, then the role and its credentials with it; once for both requests")

        // Off, it is not asked; unreachable, the error names it (quickly: no EC2 here).
        #expect(try AWSCredentialProvider.fromEnvironment(["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"]) == nil, "nothing configured")
        let closed = "http://127.0.0.1:\(try Loopback.freePort())"
        let unreachable = try #require(try AWSCredentialProvider.fromEnvironment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": closed]))
        let started = ContinuousClock.now
        let error = await #expect(throws: ProxError.self) { try await unreachable.credentials() }
        #expect(error?.message.contains("EC2 instance metadata at \(closed)") == true, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(10))
        for endpoint in ["http://10.1.2.3", "http://example.com:80", "http://127.0.0.1/latest"] {
            #expect(throws: ProxError.self, "\(endpoint)") { try AWSCredentialProvider.fromEnvironment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint]) }
        }
    }

    @Test func aWebIdentityTokenIsExchangedAtSTSAndReadAgainAtEachRefresh() async throws {
        let server = try S3TestServer(role: "prox-builds")
        defer { server.stop() }
        let endpoints = try Endpoints(server)
        defer { endpoints.stop() }
        let environment = [
            "AWS_WEB_IDENTITY_TOKEN_FILE": endpoints.tokenFile, "AWS_ROLE_ARN": endpoints.role, "AWS_ROLE_SESSION_NAME": "prox-test",
            "AWS_ENDPOINT_URL_STS": endpoints.url,
        ]
        let provider = try #require(try AWSCredentialProvider.fromEnvironment(environment))
        #expect(provider.description == "role \(endpoints.role) with the web identity token \(endpoints.tokenFile)")
        let store = try Self.store(server, credentials: provider)
        try await store.putData("keys/oidc.json", Array("{}".utf8), contentType: "application/json")
        #expect(try await store.getData("keys/oidc.json", limit: 100) == Array("{}".utf8))
        #expect(endpoints.lines == ["POST AssumeRoleWithWebIdentity \(endpoints.role) prox-test signed=False"], "one unsigned exchange for both requests")

        // The issuer rotates the token: the next refresh sends the new one.
        let source = try WebIdentityCredentials(
            tokenFile: endpoints.tokenFile, roleARN: endpoints.role, sessionName: "prox-test", endpoint: endpoints.url, region: nil, client: S3ObjectStore.defaultClient)
        let fetched = try await source.fetch()
        #expect(fetched.credentials.accessKeyID != server.accessKeyID, "the role's own credentials")
        #expect(fetched.credentials.sessionToken?.isEmpty == false)
        #expect(fetched.expires.map { abs($0.timeIntervalSinceNow - 3600) < 120 } == true, "\(String(describing: fetched.expires))")
        try "eks-token-2".write(toFile: endpoints.tokenFile, atomically: true, encoding: .utf8)
        await #expect(throws: ProxError.self) { try await source.fetch() }  // the fake STS still expects token 1
        try "eks-token-1".write(toFile: endpoints.tokenFile, atomically: true, encoding: .utf8)
        _ = try await source.fetch()
        // STS's refusal, in its own words.
        let wrongRole = try WebIdentityCredentials(
            tokenFile: endpoints.tokenFile, roleARN: "arn:aws:iam::123456789012:role/other", sessionName: nil, endpoint: endpoints.url, region: nil,
            client: S3ObjectStore.defaultClient)
        let refused = await #expect(throws: ProxError.self) { try await wrongRole.fetch() }
        #expect(refused?.message.contains("refused: InvalidIdentityToken: Couldn't validate the token & role") == true, "\(String(describing: refused))")

        // Settings that cannot work stop the start, naming the variable.
        for (name, value) in [
            ("AWS_ROLE_ARN", ""), ("AWS_ROLE_ARN", "prox-builds"), ("AWS_ROLE_SESSION_NAME", "has space"),
            ("AWS_ENDPOINT_URL_STS", "http://sts.example.com"), ("AWS_WEB_IDENTITY_TOKEN_FILE", endpoints.tokenFile + ".missing"),
        ] {
            var wrong = environment
            wrong[name] = value
            let error = #expect(throws: ProxError.self, "\(name)=\(value)") { try AWSCredentialProvider.fromEnvironment(wrong) }
            #expect(error?.message.contains(name) == true, "\(String(describing: error))")
        }
        // No endpoint given: the region's STS.
        #expect(try WebIdentityCredentials(tokenFile: "t", roleARN: endpoints.role, sessionName: nil, endpoint: nil, region: "eu-west-1", client: S3ObjectStore.defaultClient).endpoint
            == "https://sts.eu-west-1.amazonaws.com")
    }

    @Test func credentialsNeverCrossANetworkInTheClear() throws {
        for uri in ["http://10.0.0.5/creds", "http://example.com/creds", "ftp://127.0.0.1/x", "not a url"] {
            #expect(throws: ProxError.self, "\(uri)") { try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri]) }
        }
        for uri in ["https://creds.example.com/v1", "http://169.254.170.2/v2/credentials/x", "http://127.0.0.1:8080/c", "http://[::1]:8080/c"] {
            #expect(try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri]) != nil, "\(uri)")
        }
        // ECS's task role: a path on ECS's own endpoint.
        let ecs = try #require(try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/0a1b-2c"]))
        #expect(ecs.description == "the container credentials endpoint http://169.254.170.2/v2/credentials/0a1b-2c")
        for relative in ["v2/credentials", "//evil.example.com/x", "/a b"] {
            #expect(throws: ProxError.self, "\(relative)") { try AWSCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": relative]) }
        }
    }

    @Test func theFirstSourceSetIsUsedInTheSDKsOrder() throws {
        let directory = Fixture.temporaryDirectory("prox-aws-order")
        let file = directory + "/credentials", token = directory + "/token"
        try Self.profileFile(file, id: "AKIAFILE", secret: "s", profile: "ci")
        try "token".write(toFile: token, atomically: true, encoding: .utf8)
        var environment = [
            "AWS_ACCESS_KEY_ID": "AKIAKEYS", "AWS_SECRET_ACCESS_KEY": "s",
            "AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/prox",
            "AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "ci",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/c",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1",
        ]
        var order: [String] = []
        for variable in ["AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT"] {
            order.append(try #require(try AWSCredentialProvider.fromEnvironment(environment)).description)
            environment[variable] = nil
        }
        #expect(order == [
            "access key AKIAKEYS", "role arn:aws:iam::123456789012:role/prox with the web identity token \(token)", "profile ci of \(file)",
            "the container credentials endpoint http://127.0.0.1:1/c", "EC2 instance metadata at http://127.0.0.1:1",
        ])
    }
}
