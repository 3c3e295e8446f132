import AsyncHTTPClient
import BuildCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import HTTPFront

#if canImport(Glibc)
import Glibc
#endif

/// The zero-copy path for artifact bodies (SendfileHandler + ArtifactResponse), on a
/// minimal Hummingbird server serving one file as an artifact.
@Suite(.serialized) struct SendfileTests {
    /// A random file of `size` bytes and its artifact record.
    static func artifact(size: Int) throws -> ArtifactRecord {
        let path = NSTemporaryDirectory() + "prox-sendfile-\(UUID().uuidString)"
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 8) {
            let value = generator.next() as UInt64
            for j in 0..<min(8, size - i) { bytes[i + j] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(j))) }
        }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let build = ResolvedBuild(
            platform: try Platform(os: "linux", arch: "amd64"), caddyVersion: SemanticVersion("v2.8.4")!, plugins: [],
            settings: BuildSettings(goVersion: "go1.23.5")
        )
        return ArtifactRecord(
            key: CacheKey(encoding: path), digest: digest, size: Int64(size), path: path, build: build, createdAt: Date(), lastAccess: Date()
        )
    }

    /// Runs `body` against a server answering GET/HEAD /f with `record`, with or without
    /// the SendfileHandler in its pipeline.
    static func withServer(_ record: ArtifactRecord, sendfile: Bool, _ body: (Int) async throws -> Void) async throws {
        let router = Router(context: ProxRequestContext.self)
        let handler: @Sendable (Request, ProxRequestContext) async throws -> Response = { request, context in
            try await ArtifactResponse.make(
                record, request: request, fileName: "caddy_linux_amd64_custom", cache: "hit", buildID: nil, verifyDigest: false,
                sendfileSlot: { await context.sendfileSlot() })
        }
        router.get("/f", use: handler)
        router.head("/f", use: handler)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test.sendfile")
        logger.logLevel = .critical  // cancelling the server task at the end logs errors
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: sendfile ? [SendfileHandler()] : [])),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) },
            logger: logger
        )
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { task.cancel() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        try await body(port)
    }

    static func get(_ port: Int, method: HTTPMethod = .GET, headers: [(String, String)] = []) async throws -> (status: UInt, headers: HTTPHeaders, body: [UInt8]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/f")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 30)
        return (response.status.code, response.headers, Array(body.readableBytesView))
    }

    @Test(arguments: [true, false])
    func servesWholeFilesRangesConditionalsAndHeads(sendfile: Bool) async throws {
        let record = try Self.artifact(size: 3 * 1024 * 1024 + 17)
        defer { unlink(record.path) }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: record.path)))
        let regionsBefore = SendfileSlot.regionsWritten
        try await Self.withServer(record, sendfile: sendfile) { port in
            // Several responses on one keep-alive connection: whole, ranges, HEAD, 304.
            for _ in 0..<3 {
                let whole = try await Self.get(port)
                #expect(whole.status == 200)
                #expect(whole.body == bytes)
                #expect(whole.headers.first(name: "Content-Length") == String(bytes.count))
                #expect(whole.headers.first(name: "ETag") == "\"\(record.digest)\"")
                #expect(whole.headers.first(name: "Repr-Digest") == "sha-256=:\(ArtifactResponse.base64(hex: record.digest)):")
            }
            let range = try await Self.get(port, headers: [("Range", "bytes=100-199")])
            #expect(range.status == 206)
            #expect(range.body == Array(bytes[100...199]))
            #expect(range.headers.first(name: "Content-Range") == "bytes 100-199/\(bytes.count)")
            let suffix = try await Self.get(port, headers: [("Range", "bytes=-1000")])
            #expect(suffix.status == 206)
            #expect(suffix.body == Array(bytes[(bytes.count - 1000)...]))
            let tail = try await Self.get(port, headers: [("Range", "bytes=\(bytes.count - 5)-")])
            #expect(tail.body == Array(bytes[(bytes.count - 5)...]))
            let unsatisfiable = try await Self.get(port, headers: [("Range", "bytes=\(bytes.count)-")])
            #expect(unsatisfiable.status == 416)
            let head = try await Self.get(port, method: .HEAD)
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.headers.first(name: "Content-Length") == String(bytes.count))
            let notModified = try await Self.get(port, headers: [("If-None-Match", "\"\(record.digest)\"")])
            #expect(notModified.status == 304)
            #expect(notModified.body.isEmpty)
            // The slot was once named by a request header; a client sending one changes nothing.
            let spoofed = try await Self.get(port, headers: [("X-Prox-Sendfile-Slot", "0123456789abcdef0123456789abcdef")])
            #expect(spoofed.body == bytes)
            let whole = try await Self.get(port)
            #expect(whole.body == bytes)
        }
        if sendfile {
            #expect(SendfileSlot.regionsWritten >= regionsBefore + 7, "the bodies went out as file regions")
        }
    }

    /// The artifact's file is removed (as an eviction does) after the headers went out and
    /// while most of the body has not: the client still gets every byte.
    @Test(arguments: [true, false])
    func anArtifactRemovedMidResponseIsSentWhole(sendfile: Bool) async throws {
        let record = try Self.artifact(size: 32 * 1024 * 1024)
        let expected = record.digest
        try await Self.withServer(record, sendfile: sendfile) { port in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(fd >= 0)
            defer { close(fd) }
            var small: Int32 = 4096
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(connected == 0)
            let request = Array("GET /f HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
            #expect(send(fd, request, request.count, 0) == request.count)
            var received: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            func receive() -> Int {
                let n = recv(fd, &chunk, chunk.count, 0)
                if n > 0 { received += chunk[..<n] }
                return n
            }
            // The headers and a first part of the body, then the file goes away.
            while received.count < 64 * 1024, receive() > 0 {}
            try FileManager.default.removeItem(atPath: record.path)
            while receive() > 0 {}
            // The head's end is found in the bytes: the body is random, and decoding it as
            // text (replacement characters, grapheme clusters) could hide the blank line.
            let blankLine: [UInt8] = [13, 10, 13, 10]
            let headerEnd = try #require(received.indices.first { received[$0...].starts(with: blankLine) }, "no blank line after the head")
            let headerLength = headerEnd + blankLine.count
            let text = String(decoding: received.prefix(headerLength), as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200"))
            let body = received[headerLength...]
            #expect(body.count == 32 * 1024 * 1024)
            #expect(SHA256.hash(data: Array(body)).map { String(format: "%02x", $0) }.joined() == expected)
        }
    }

    @Test func slotsCloseTheirDescriptorsWhenTheConnectionGoes() throws {
        let slot = SendfileSlot()
        let fd = open("/dev/null", O_RDONLY)
        defer { close(fd) }
        let token = try #require(slot.enqueue(fd: fd, offset: 0, count: 1))
        #expect(slot.pendingCount == 1)
        // Not a token: ordinary buffers pass.
        #expect(slot.take(token: ByteBuffer(string: "hello")) == nil)
        slot.close()
        #expect(slot.pendingCount == 0)
        #expect(slot.take(token: token) == nil)
        #expect(slot.enqueue(fd: fd, offset: 0, count: 1) == nil, "a closed connection takes no more files")
    }
}
