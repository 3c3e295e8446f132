import BuildCore
import CacheStore
import Foundation
import ObjectStorage
import ProxCommands
import ProxTestSupport
import Testing

/// `--storage s3://…` end to end: real hubs, a real agent and real Go builds, with the
/// artifacts in a bucket of a real S3 protocol server on 127.0.0.1 (moto, authentication
/// on).
@Suite(.serialized) struct SharedBucketTests {
    static let download = "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0"

    static func useBucket(_ s3: S3TestServer, redirect: DownloadRedirectSetting = .off) -> (inout HubConfiguration) -> Void {
        { c in
            c.storage = "s3://\(s3.bucket)/artifacts"
            c.s3Endpoint = s3.endpoint
            c.s3Region = s3.region
            c.s3Credentials = AWSCredentials(accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey)
            c.downloadRedirect = redirect
        }
    }

    static func objects(_ s3: S3TestServer) throws -> S3ObjectStore {
        S3ObjectStore(
            configuration: try S3Configuration(
                storage: "s3://\(s3.bucket)/artifacts", endpoint: s3.endpoint, region: s3.region,
                credentials: AWSCredentials(accessKeyID: s3.accessKeyID, secretAccessKey: s3.secretAccessKey)))
    }

    /// A proxhub process given a bucket and no credentials anywhere: it asks the EC2
    /// instance metadata service (here a closed port on 127.0.0.1), then stops at once
    /// with status 1, naming every source; with the service switched off it says so.
    @Test func aHubWithoutCredentialsStopsAtStartNamingEverySource() throws {
        let closed = try Loopback.freePort()
        let noCredentials: [String: String?] = [
            "AWS_ACCESS_KEY_ID": nil, "AWS_SECRET_ACCESS_KEY": nil, "AWS_SESSION_TOKEN": nil, "AWS_WEB_IDENTITY_TOKEN_FILE": nil,
            "AWS_SHARED_CREDENTIALS_FILE": nil, "AWS_PROFILE": nil, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": nil,
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": nil, "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": nil,
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(closed)",
        ]
        let arguments = try TLSTests.proxhubArguments(port: try Loopback.freePort()) + ["--storage", "s3://prox/artifacts", "--s3-endpoint", "http://127.0.0.1:\(closed)"]
        let hub = try ServerProcess("proxhub", arguments, environment: noCredentials)
        hub.process.waitUntilExit()
        #expect(hub.process.terminationStatus == 1, "\(hub.log)")
        for part in ["needs credentials", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_SHARED_CREDENTIALS_FILE", "EC2 instance metadata at http://127.0.0.1:\(closed)"] {
            #expect(hub.log.contains(part), "\(part): \(hub.log)")
        }
        var off = noCredentials
        off["AWS_EC2_METADATA_DISABLED"] = "true"
        let hubOff = try ServerProcess("proxhub", arguments, environment: off)
        hubOff.process.waitUntilExit()
        #expect(hubOff.process.terminationStatus == 1)
        #expect(hubOff.log.contains("needs credentials") && hubOff.log.contains("AWS_EC2_METADATA_DISABLED"), "\(hubOff.log)")
    }

    @Test func twoHubsAndOneAgentShareOneBucket() async throws {
        let s3 = try S3TestServer()
        defer { s3.stop() }
        let redis = try RedisServer()
        defer { redis.stop() }
        let first = try await Cluster.hub(redis: redis, Self.useBucket(s3))
        let agent = try await LiveAgent.start(try Cluster.agentConfiguration(redis: redis, hub: first, name: "bucket-agent"))
        let built = try await first.get(Self.download)
        #expect(built.status == 200, "\(built.text)")
        #expect(built.header("X-Prox-Cache") == "miss")
        let key = try #require(built.header("X-Prox-Cache-Key"))
        let provenance = try await first.get("/api/artifacts/\(key)/provenance")
        #expect(provenance.status == 200)
        await agent.stop()
        await first.stop()  // no peer to fetch from: only the bucket has it now

        let second = try await Cluster.hub(redis: redis, Self.useBucket(s3))
        #expect(try await second.hub.cache.entries().isEmpty, "an empty disk")
        let served = try await second.get(Self.download)
        #expect(served.status == 200, "\(served.text)")
        #expect(served.header("X-Prox-Cache") == "hit")
        #expect(served.sha256 == built.sha256)
        #expect(await second.buildsStarted == 0)
        #expect(await second.hub.bucket?.fetchedFromBucket == 1)
        // The provenance the first hub signed came with it, byte for byte.
        let same = try await second.get("/api/artifacts/\(key)/provenance")
        #expect(same.body == provenance.body)

        // Evicted from the disk, it comes back from the bucket.
        #expect(try await second.hub.store.prune(toSize: 0).entries == 1)
        let again = try await second.get(Self.download)
        #expect(again.status == 200 && again.sha256 == built.sha256 && again.header("X-Prox-Cache") == "hit")
        #expect(await second.hub.bucket?.fetchedFromBucket == 2)
        await second.stop()
    }

    @Test func aCorruptedObjectIsRebuiltNotServed() async throws {
        let s3 = try S3TestServer()
        defer { s3.stop() }
        let first = try await LiveHub.start(Self.useBucket(s3))
        let built = try await first.get(Self.download)
        #expect(built.status == 200, "\(built.text)")
        await first.stop()
        let digest = built.sha256
        // Same size, other bytes, stored under the binary's name.
        var corrupted = built.body
        corrupted[corrupted.count / 2] ^= 0xFF
        try await Self.objects(s3).putData("blobs/sha256/\(digest)", corrupted, contentType: "application/octet-stream")

        let second = try await LiveHub.start(Self.useBucket(s3))
        let rebuilt = try await second.get(Self.download)
        #expect(rebuilt.status == 200, "\(rebuilt.text)")
        #expect(rebuilt.sha256 == digest, "the corrupted bytes were never served")
        #expect(rebuilt.header("X-Prox-Cache") == "miss", "detected, then built again")
        #expect(await second.hub.bucket?.corruptObjects == 1)
        await second.stop()
        // The rebuild stored good bytes over the bad ones.
        let third = try await LiveHub.start(Self.useBucket(s3))
        let hit = try await third.get(Self.download)
        #expect(hit.header("X-Prox-Cache") == "hit" && hit.sha256 == digest)
        await third.stop()
    }

    @Test func withTheBucketDownDiskHitsAreServedAndMissesGet503() async throws {
        let s3 = try S3TestServer()
        let hub = try await LiveHub.start(Self.useBucket(s3))
        let built = try await hub.get(Self.download)
        #expect(built.status == 200, "\(built.text)")
        s3.stop()
        let hit = try await hub.get(Self.download)
        #expect(hit.status == 200 && hit.sha256 == built.sha256)
        let miss = try await hub.get("/api/download?os=linux&arch=arm64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(miss.status == 503, "\(miss.text)")
        let error = try #require(try miss.json()["error"] as? [String: Any])
        #expect((error["message"] as? String)?.contains("cannot reach the object store s3://prox/artifacts") == true, "\(error)")
        await hub.stop()
    }

    /// On an S3 server without authentication: moto cannot check presigned URLs.
    @Test func redirectModeSendsHitsToAPresignedURLThatCurlFollows() async throws {
        let s3 = try S3TestServer(authentication: false)
        defer { s3.stop() }
        let hub = try await LiveHub.start(Self.useBucket(s3, redirect: .presigned))
        let built = try await hub.get(Self.download)  // a miss is sent by the hub
        #expect(built.status == 200 && built.header("X-Prox-Cache") == "miss", "\(built.text)")

        let work = Fixture.temporaryDirectory("prox-redirect")
        defer { try? FileManager.default.removeItem(atPath: work) }
        // The redirect itself: 302, Location, and the artifact's ETag and digest.
        let head = try await Loopback.blocking { try runProgram("/usr/bin/curl", ["-sS", "-I", hub.url(Self.download)]) }
        #expect(head.hasPrefix("HTTP/1.1 302"), "\(head)")
        #expect(head.lowercased().contains("etag: \"\(built.sha256)\""))
        #expect(head.lowercased().contains("repr-digest: sha-256=:"))
        let location = try #require(head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("location: ") }).dropFirst("location: ".count)
        #expect(location.hasPrefix(s3.endpoint + "/prox/artifacts/blobs/sha256/\(built.sha256)?"))
        #expect(location.contains("X-Amz-Signature="))
        #expect(built.header("Content-Disposition") == #"attachment; filename="caddy_linux_amd64_custom""#)
        #expect(location.contains("response-content-disposition=attachment%3B%20filename%3D%22caddy_linux_amd64_custom%22"), "S3 names the file as the hub would")
        // curl follows it (no credentials: the URL carries the signature) to the same bytes.
        _ = try await Loopback.blocking { try runProgram("/usr/bin/curl", ["-sS", "-L", "-o", work + "/caddy", hub.url(Self.download)]) }
        let fetched = try #require(FileManager.default.contents(atPath: work + "/caddy"))
        #expect(fetched.count == built.body.count)
        #expect(Array(fetched) == built.body)
        await hub.stop()

        // With a CDN in front of the prefix: a hub with an empty disk sends the hit there.
        let cdn = try await LiveHub.start(Self.useBucket(s3, redirect: .baseURL("https://cdn.example.invalid/prox")))
        let viaCDN = try await Loopback.blocking { try runProgram("/usr/bin/curl", ["-sS", "-I", cdn.url(Self.download)]) }
        #expect(viaCDN.hasPrefix("HTTP/1.1 302"), "\(viaCDN)")
        #expect(viaCDN.contains("\r\nlocation: https://cdn.example.invalid/prox/blobs/sha256/\(built.sha256)\r\n") || viaCDN.contains("\r\nLocation: https://cdn.example.invalid/prox/blobs/sha256/\(built.sha256)\r\n"), "\(viaCDN)")
        #expect(viaCDN.lowercased().contains("x-prox-cache: hit"))
        await cdn.stop()
    }
}
