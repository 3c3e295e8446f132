import BuildCore
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProxTestSupport
import ProxTesting
import Testing

/// Repeated `HEAD /api/download` answered on the connection's event loop (issue 14's hot
/// path), through proxhub's own server pipeline on a live port: the same answer as the
/// router's, the same access and rate checks, never for an artifact the cache lost, and
/// never out of order on a keep-alive connection.
@Suite struct DownloadFastPathTests {
    static let query = DownloadRouteTests.query
    static let cacheHeader = HTTPField.Name("X-Prox-Cache")!

    /// Every header but `Date`, by name.
    static func comparable(_ headers: HTTPFields) -> [String: [String]] {
        var fields: [String: [String]] = [:]
        for field in headers where field.name != .date { fields[field.name.canonicalName, default: []].append(field.value) }
        return fields
    }

    @Test func aRepeatedHeadIsAnsweredOnTheEventLoopWithTheRoutersHeaders() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        let fastPath = try #require(api.fastPath)
        try await api.testServer { _, client in
            let built = try await client.execute(uri: Self.query, method: .get)
            #expect(built.status == .ok)
            #expect(built.headers[Self.cacheHeader] == "miss")
            let routed = try await client.execute(uri: Self.query, method: .head)  // the router's hit: its answer is kept
            #expect(routed.headers[Self.cacheHeader] == "hit")
            #expect(fastPath.answers == 0)
            let fast = try await client.execute(uri: Self.query, method: .head)
            #expect(fastPath.answers == 1)
            #expect(fast.status == .ok)
            #expect(Self.comparable(fast.headers) == Self.comparable(routed.headers))
            #expect(fast.headers[.date] != nil)
            #expect(fast.headers[.contentLength] == built.headers[.contentLength])
            // What the fast path does not answer: GET, conditional and range requests, another query.
            #expect(try await client.execute(uri: Self.query, method: .get).body.readableBytes == Int(built.headers[.contentLength] ?? ""))
            let etag = try #require(routed.headers[.eTag])
            #expect(try await client.execute(uri: Self.query, method: .head, headers: [.ifNoneMatch: etag]).status == .notModified)
            #expect(try await client.execute(uri: Self.query, method: .head, headers: [.range: "bytes=0-0"]).status == .partialContent)
            #expect(try await client.execute(uri: Self.query + "&arm=", method: .head).status == .ok)
            #expect(fastPath.answers == 1)
        }
        #expect(api.runner.builds.count == 1)
    }

    @Test func anArtifactTheCacheLostIsNeverAnsweredFromTheFastPath() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        let fastPath = try #require(api.fastPath)
        try await api.testServer { _, client in
            _ = try await client.execute(uri: Self.query, method: .get)
            _ = try await client.execute(uri: Self.query, method: .head)
            _ = try await client.execute(uri: Self.query, method: .head)
            #expect(fastPath.answers == 1)
            let key = try #require(api.runner.builds.first).cacheKey
            #expect(try await api.store.remove(key))
            // The file is checked once a second per query: past that, the HEAD is the router's.
            try await Task.sleep(for: DownloadMemo.touchInterval + .milliseconds(100))
            let rebuilt = try await client.execute(uri: Self.query, method: .head)
            #expect(rebuilt.status == .ok)
            #expect(rebuilt.headers[Self.cacheHeader] == "miss", "the router looked the key up and built it again")
            #expect(fastPath.answers == 1)
        }
        #expect(api.runner.builds.count == 2)
    }

    @Test func aPrivateServerAsksForItsTokenOnTheFastPathToo() async throws {
        let api = try await InProcessAPI(access: AccessPolicy(pullTokens: ["pull-secret"]))
        defer { api.cleanUp() }
        let fastPath = try #require(api.fastPath)
        let token: HTTPFields = [.authorization: "Bearer pull-secret"]
        try await api.testServer { _, client in
            let built = try await client.execute(uri: Self.query, method: .get, headers: token)
            #expect(built.status == .ok)
            #expect(try await client.execute(uri: Self.query, method: .head, headers: token).status == .ok)
            #expect(try await client.execute(uri: Self.query, method: .head, headers: token).status == .ok)
            #expect(fastPath.answers == 1)
            #expect(try await client.execute(uri: Self.query, method: .head).status == .unauthorized)
            #expect(try await client.execute(uri: Self.query, method: .head, headers: [.authorization: "Bearer wrong"]).status == .unauthorized)
            #expect(fastPath.answers == 1)
        }
    }

    @Test func fastAnswersCountAgainstTheClientsRequestRate() async throws {
        let api = try await InProcessAPI(requestRate: Rate(5, per: .seconds(3600)))
        defer { api.cleanUp() }
        let fastPath = try #require(api.fastPath)
        try await api.testServer { _, client in
            for _ in 0..<5 { #expect(try await client.execute(uri: Self.query, method: .head).status == .ok) }
            #expect(fastPath.answers == 3, "the first builds, the second is the router's hit")
            let refused = try await client.execute(uri: Self.query, method: .head)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(fastPath.answers == 3)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInTheirOrder() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        let fastPath = try #require(api.fastPath)
        try await api.testServer { port, client in
            let built = try await client.execute(uri: Self.query, method: .get)
            let size = try #require(Int(built.headers[.contentLength] ?? ""))
            _ = try await client.execute(uri: Self.query, method: .head)
            let before = fastPath.answers
            // A GET the router answers, then two HEADs, then a 404, all in one write.
            let head = "HEAD \(Self.query) HTTP/1.1\r\nHost: x\r\n\r\n"
            let pipelined = "GET \(Self.query) HTTP/1.1\r\nHost: x\r\n\r\n" + head + head + "GET /api/builds/nope-1 HTTP/1.1\r\nHost: x\r\n\r\n"
            let replies = try await Loopback.blocking {
                let connection = try RawConnection(port: port)
                _ = connection.send(pipelined)
                return connection.read(timeout: .seconds(20)) { bytes in Self.responses(in: bytes, firstBody: size)?.count == 4 }
            }
            let responses = try #require(Self.responses(in: replies.bytes, firstBody: size), "\(replies.bytes.count) bytes")
            #expect(responses.map(\.status) == [200, 200, 200, 404])
            #expect(responses[0].head.contains("content-length: \(size)"))
            #expect(responses[1].head.contains("x-prox-cache: hit") && responses[2].head.contains("x-prox-cache: hit"))
            // Then, on a new connection, two HEADs alone: both answered here, in order.
            let heads = try await Loopback.blocking {
                let connection = try RawConnection(port: port)
                _ = connection.send(head + head)
                return connection.read(timeout: .seconds(20)) { bytes in Self.responses(in: bytes, firstBody: 0)?.count == 2 }
            }
            #expect(Self.responses(in: heads.bytes, firstBody: 0)?.map(\.status) == [200, 200])
            #expect(fastPath.answers >= before + 2)
        }
    }

    /// The responses in `bytes` (heads, lower-cased), where only the first has a body of
    /// `firstBody` bytes and the rest carry none or a Content-Length one (the 404's JSON);
    /// nil while one is incomplete.
    static func responses(in bytes: [UInt8], firstBody: Int) -> [(status: Int, head: String)]? {
        var responses: [(Int, String)] = []
        var index = 0
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while index < bytes.count {
            guard bytes.count - index >= separator.count,
                let end = (index...(bytes.count - separator.count)).first(where: { bytes[$0..<$0 + separator.count].elementsEqual(separator) })
            else { return nil }
            let head = String(decoding: bytes[index..<end], as: UTF8.self).lowercased()
            let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            var body = responses.isEmpty ? firstBody : 0
            if status == 404, let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length: ") }) {
                body = Int(line.dropFirst("content-length: ".count)) ?? 0
            }
            guard end + separator.count + body <= bytes.count else { return nil }
            responses.append((status, head))
            index = end + separator.count + body
        }
        return responses.isEmpty ? nil : responses
    }
}
