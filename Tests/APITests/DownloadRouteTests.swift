import BuildCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxTesting
import Testing

/// `/api/download`, `/api/builds` and the log stream in process: a miss builds once (the
/// scripted runner), a hit is served from the store with the same bytes; HEAD, ranges,
/// validators, failures and client-chosen ids behave as on a live server.
@Suite struct DownloadRouteTests {
    static let query = "/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40v0.2.0&version=v2.8.4"

    @Test func aMissBuildsOnceAndAHitServesTheSameBytesWithItsHeaders() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            let miss = try await client.execute(uri: Self.query, method: .get)
            #expect(miss.status == .ok, "\(miss.text)")
            #expect(miss.headers[.init("X-Prox-Cache")!] == "miss")
            let build = try #require(api.runner.builds.first)
            #expect(Array(miss.body.readableBytesView) == ScriptedRunner.bytes(for: build))
            #expect(build.caddyVersion.description == "v2.8.4" && build.plugins.map(\.version.description) == ["v0.2.0"])
            let digest = SHA256.hash(data: Array(miss.body.readableBytesView)).map { String(format: "%02x", $0) }.joined()
            #expect(miss.headers[.eTag] == "\"\(digest)\"")
            #expect(miss.headers[.contentDisposition] == "attachment; filename=\"caddy_linux_amd64_custom\"")
            #expect(miss.headers[.init("X-Prox-Build-Id")!] != nil)

            let hit = try await client.execute(uri: Self.query, method: .get)
            #expect(hit.status == .ok)
            #expect(hit.headers[.init("X-Prox-Cache")!] == "hit")
            #expect(hit.headers[.init("X-Prox-Build-Id")!] == nil, "a plain hit involves no build")
            #expect(hit.body == miss.body)

            let head = try await client.execute(uri: Self.query, method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[.contentLength] == String(miss.body.readableBytes))
            #expect(head.headers[.eTag] == miss.headers[.eTag])

            let range = try await client.execute(uri: Self.query, method: .get, headers: [.range: "bytes=0-3"])
            #expect(range.status == .partialContent)
            #expect(range.text == "PROX")
            #expect(range.headers[.contentRange] == "bytes 0-3/\(miss.body.readableBytes)")
            let outside = try await client.execute(uri: Self.query, method: .get, headers: [.range: "bytes=999999-"])
            #expect(outside.status == .rangeNotSatisfiable)
            #expect(try outside.error().status == 416)

            let notModified = try await client.execute(uri: Self.query, method: .get, headers: [.ifNoneMatch: miss.headers[.eTag]!])
            #expect(notModified.status == .notModified)
            #expect(notModified.body.readableBytes == 0)
        }
        #expect(api.runner.builds.count == 1)
        #expect(await api.store.commits == 1)
        #expect(await api.store.downloadCounts() == [InProcessAPI.hello: 2], "whole GETs are counted; HEAD, ranges, 304 and 416 are not")
    }

    @Test func aFailedBuildIsA422NamingItsBuildAndARetryBuildsAgain() async throws {
        let api = try await InProcessAPI(script: .init(lines: ["compiling"], failure: ProxError(.buildFailed, "hello.go:3: undefined: nope")))
        defer { api.cleanUp() }
        try await api.test { client in
            let failed = try await client.execute(uri: Self.query, method: .get)
            #expect(failed.status == .unprocessableContent, "\(failed.text)")
            let error = try failed.error()
            #expect(error.message == "hello.go:3: undefined: nope")
            let record = try await client.execute(uri: "/api/builds/\(error.id)", method: .get)
            #expect(record.status == .ok, "the error's id is the build's: \(record.text)")
            #expect((try record.json()["result"] as? [String: Any])?["state"] as? String == "failed")
            let log = try await client.execute(uri: "/api/builds/\(error.id)/logs", method: .get)
            #expect(log.headers[.contentType] == "text/event-stream; charset=utf-8")
            #expect(log.text.hasPrefix("retry: 2000\n\n"))
            // Every line is `id: <seq>`, `event: log`, `data: <JSON event>`, numbered from 1;
            // the stream ends with the build as a `result` event.
            let frames = log.text.components(separatedBy: "\n\n").dropFirst().filter { !$0.isEmpty }
            let logFrames = frames.filter { $0.contains("\nevent: log\n") }
            #expect(logFrames.first?.hasPrefix("id: 1\nevent: log\ndata: {") == true, "\(frames.first ?? "")")
            #expect(logFrames.contains { $0.contains(#""text":"hello.go:3: undefined: nope""#) && $0.contains(#""stream":"stderr""#) }, "\(log.text)")
            #expect(frames.last?.hasPrefix("event: result\ndata: {") == true)
            #expect(frames.last?.contains(#""state":"failed""#) == true)
            api.runner.script = .init()
            #expect(try await client.execute(uri: Self.query, method: .get).status == .ok)
        }
        #expect(api.runner.builds.count == 2)
    }

    @Test func submittedBuildsAreWatchedByTheirIdAndAJobIDNamesOneKey() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            let body = #"{"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/hello"], "job_id": "my-job"}"#
            let accepted = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: body))
            #expect(accepted.status == .accepted, "\(accepted.text)")
            #expect(accepted.headers[.location] == "/api/builds/my-job")
            let artifact = try await client.execute(uri: "/api/builds/my-job/artifact", method: .get)
            #expect(artifact.status == .ok)
            #expect(artifact.headers[.init("X-Prox-Build-Id")!] == "my-job")
            let other = #"{"os": "linux", "arch": "amd64", "packages": [], "job_id": "my-job"}"#
            let conflict = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: other))
            #expect(conflict.status == .badRequest)
            #expect(try conflict.error().message == "job_id my-job is already used by another build: choose a new job_id")
            let viaDownload = try await client.execute(uri: "/api/download?os=linux&arch=amd64&job_id=my-job", method: .get)
            #expect(viaDownload.status == .badRequest)
            let recent = try await client.execute(uri: "/api/builds?limit=5", method: .get)
            #expect((try recent.json()["result"] as? [[String: Any]])?.map { $0["id"] as? String } == ["my-job"])
        }
        #expect(api.runner.builds.count == 1)
    }

    @Test func aFullQueueRefusesNewBuildsButServesHitsAndJoins() async throws {
        var limits = BuildLimits.unlimited
        limits.maxQueued = 1
        let api = try await InProcessAPI(limits: limits)
        defer { api.cleanUp() }
        try await api.test { client in
            // One artifact built at once, then builds that take 30 s.
            #expect(try await client.execute(uri: Self.query, method: .get).status == .ok)
            api.runner.script = .init(duration: .seconds(30))
            // Two slots run two builds; the third waits; the fourth finds the queue full.
            var ids: [String] = []
            for arch in ["amd64", "arm64", "riscv64"] {
                let body = #"{"os": "linux", "arch": "\#(arch)", "packages": []}"#
                let accepted = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: body))
                #expect(accepted.status == .accepted, "\(accepted.text)")
                ids.append(try #require((try accepted.json()["result"] as? [String: Any])?["id"] as? String))
            }
            let full = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: #"{"os": "linux", "arch": "386", "packages": []}"#))
            #expect(full.status == .serviceUnavailable, "\(full.text)")
            #expect(full.headers[.retryAfter] != nil)
            let joined = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: #"{"os": "linux", "arch": "riscv64", "packages": []}"#))
            #expect(joined.status == .accepted, "joining a queued build is never refused")
            #expect((try joined.json()["result"] as? [String: Any])?["id"] as? String == ids[2])
            let hit = try await client.execute(uri: Self.query, method: .get)
            #expect(hit.status == .ok && hit.headers[.init("X-Prox-Cache")!] == "hit", "a full queue never refuses a hit")
            for id in ids {
                #expect(try await client.execute(uri: "/api/admin/builds/\(id)/cancel", method: .post).status != .ok, "the admin API is off here: no request may cancel")
            }
        }
        await api.builds.shutdown()
    }
}
