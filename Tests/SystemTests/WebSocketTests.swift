import BuildCore
import Foundation
import HTTPFront
import HummingbirdWSClient
import Logging
import NIOHTTP1
import NIOWebSocket
import ProxCommands
import ProxTestSupport
import Testing

/// prox-builder's WebSocket log endpoint, `GET /ws?job_id=<id>`, watched with a real
/// WebSocket client on a live proxhub.
@Suite(.serialized) struct WebSocketTests {
    struct Frame: Decodable, Sendable, CustomStringConvertible {
        let messageType: String
        let message: String
        var description: String { "\(messageType): \(message)" }

        enum CodingKeys: String, CodingKey { case messageType = "message_type", message }
    }

    /// Frames received so far, shared with the client's handler.
    final class FrameLog: @unchecked Sendable {
        private let lock = NSLock()
        private var frames: [Frame] = []
        var all: [Frame] { lock.withLock { frames } }
        func append(_ frame: Frame) { lock.withLock { frames.append(frame) } }
    }

    static let helloBuild = #"{"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/hello@v0.2.0"], "version": "v2.8.0"}"#

    /// Starts a build and returns its id.
    static func submit(_ hub: LiveHub, _ body: String) async throws -> BuildID {
        let submitted = try await hub.request("/api/builds", method: .POST, body: body)
        #expect(submitted.status == 202, "\(submitted.text)")
        let build = try #require(try submitted.json()["result"] as? [String: Any])
        return try BuildID(validating: try #require(build["id"] as? String))
    }

    /// Watches `/ws?job_id=<id>` until the server closes the socket.
    static func watch(_ hub: LiveHub, _ id: BuildID) async throws -> (frames: [Frame], close: WebSocketCloseFrame?) {
        let log = FrameLog()
        let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(hub.port)/ws?job_id=\(id)", logger: Logger(label: "test.ws")) {
            inbound, _, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else {
                    Issue.record("a binary message: \(message)")
                    continue
                }
                log.append(try JSONDecoder().decode(Frame.self, from: Data(text.utf8)))
            }
        }
        return (log.all, close)
    }

    static func build(_ hub: LiveHub, _ id: BuildID) async throws -> [String: Any] {
        try #require(try await hub.get("/api/builds/\(id)").json()["result"] as? [String: Any])
    }

    @Test func aWatcherGetsBuildStartedEveryLineFromTheFirstThenBuildSuccessAndANormalClose() async throws {
        let hub = try await LiveHub.start(goExecutable: try slowGo(seconds: 3))
        defer { Task { await hub.stop() } }
        let id = try await Self.submit(hub, Self.helloBuild)
        #expect(try await Self.build(hub, id)["state"] as? String != "succeeded", "watched while the build runs")

        let (frames, close) = try await Self.watch(hub, id)
        #expect(close?.closeCode == .normalClosure)
        let first = try #require(frames.first)
        #expect(first.messageType == "build_started")
        #expect(first.message == "build \(id): Caddy v2.8.0 for linux/arm64 with github.com/proxfixture/hello@v0.2.0", "\(first)")

        let lines = frames.dropFirst().dropLast()
        #expect(lines.allSatisfy { $0.messageType == "log" }, "\(lines)")
        let logs = try #require(hub.hub.api.logs as? MemoryLogBus)
        let logged = try #require(logs.events(of: id)).map(\.text)
        #expect(lines.map(\.message) == logged, "every line, from the first, in order, once")
        #expect(lines.first?.message.hasPrefix("build \(id) queued: Caddy v2.8.0 for linux/arm64") == true, "\(lines.first?.message ?? "none")")
        #expect(lines.contains { $0.message.hasPrefix("$ go build") }, "the go build command line")
        #expect(lines.contains { $0.message.hasPrefix("build succeeded in") })

        let last = try #require(frames.last)
        #expect(last.messageType == "build_success")
        let artifact = try #require(try await Self.build(hub, id)["artifact"] as? [String: Any])
        let sha256 = try #require(artifact["sha256"] as? String)
        let size = try #require(artifact["size"] as? Int)
        #expect(last.message == "/api/builds/\(id)/artifact sha256 \(sha256), \(size) bytes")
        let download = try await hub.get("/api/builds/\(id)/artifact")
        #expect(download.status == 200)
        #expect(download.sha256 == sha256)
    }

    @Test func aBrokenPluginEndsWithBuildFailedAndTheCompilerError() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let id = try await Self.submit(hub, #"{"os": "linux", "arch": "amd64", "packages": ["github.com/proxfixture/broken"]}"#)

        let (frames, close) = try await Self.watch(hub, id)
        #expect(close?.closeCode == .normalClosure)
        #expect(frames.first?.messageType == "build_started")
        #expect(frames.dropFirst().dropLast().contains { $0.messageType == "log" && $0.message.contains("cannot use") }, "the compiler's stderr lines")
        let last = try #require(frames.last)
        #expect(last.messageType == "build_failed")
        #expect(last.message.contains(#"cannot use "this does not compile""#), "\(last.message)")
        let build = try await Self.build(hub, id)
        #expect(build["state"] as? String == "failed")
        #expect(last.message == (build["error"] as? [String: Any])?["message"] as? String, "the build's error message")
        #expect(!frames.contains { $0.messageType == "build_success" })
    }
}
