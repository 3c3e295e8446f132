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
        let message_type: String
        let message: String
        var description: String { "\(message_type): \(message)" }
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
    static func submit(_ hub: LiveHub, _ body: String) async throws -> String {
        let submitted = try await hub.request("/api/builds", method: .POST, body: body)
        #expect(submitted.status == 202, "\(submitted.text)")
        let build = try #require(try submitted.json()["result"] as? [String: Any])
        return try #require(build["id"] as? String)
    }

    /// Watches `/ws?job_id=<id>` until the server closes the socket (or, with `leaveAt`, until
    /// a frame matches it: then `whileConnected` runs and the client leaves).
    static func watch(
        _ hub: LiveHub, _ id: String, leaveAt: (@Sendable (Frame) -> Bool)? = nil,
        whileConnected: @escaping @Sendable () async -> Void = {}
    ) async throws -> (frames: [Frame], close: WebSocketCloseFrame?) {
        let log = FrameLog()
        let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(hub.port)/ws?job_id=\(id)", logger: Logger(label: "test.ws")) {
            inbound, _, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else {
                    Issue.record("a binary message: \(message)")
                    continue
                }
                let frame = try JSONDecoder().decode(Frame.self, from: Data(text.utf8))
                log.append(frame)
                if let leaveAt, leaveAt(frame) {
                    await whileConnected()
                    return
                }
            }
        }
        return (log.all, close)
    }

    static func build(_ hub: LiveHub, _ id: String) async throws -> [String: Any] {
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
        #expect(first.message_type == "build_started")
        #expect(first.message == "build \(id): Caddy v2.8.0 for linux/arm64 with github.com/proxfixture/hello@v0.2.0", "\(first)")

        let lines = frames.dropFirst().dropLast()
        #expect(lines.allSatisfy { $0.message_type == "log" }, "\(lines)")
        let logs = try #require(hub.hub.api.logs as? MemoryLogBus)
        let logged = try #require(logs.events(of: id)).map(\.text)
        #expect(lines.map(\.message) == logged, "every line, from the first, in order, once")
        #expect(lines.first?.message.hasPrefix("build \(id) queued: Caddy v2.8.0 for linux/arm64") == true, "\(lines.first?.message ?? "none")")
        #expect(lines.contains { $0.message.hasPrefix("$ go build") }, "the go build command line")
        #expect(lines.contains { $0.message.hasPrefix("build succeeded in") })

        let last = try #require(frames.last)
        #expect(last.message_type == "build_success")
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
        #expect(frames.first?.message_type == "build_started")
        #expect(frames.dropFirst().dropLast().contains { $0.message_type == "log" && $0.message.contains("cannot use") }, "the compiler's stderr lines")
        let last = try #require(frames.last)
        #expect(last.message_type == "build_failed")
        #expect(last.message.contains(#"cannot use "this does not compile""#), "\(last.message)")
        let build = try await Self.build(hub, id)
        #expect(build["state"] as? String == "failed")
        #expect(last.message == (build["error"] as? [String: Any])?["message"] as? String, "the build's error message")
        #expect(!frames.contains { $0.message_type == "build_success" })
    }

    @Test func aMissingBadOrUnknownJobIDIsRefusedWithJSONAndNoUpgrade() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let cases: [(path: String, status: Int, kind: String, message: String)] = [
            ("/ws", 400, "invalidRequest", "missing job_id: connect to /ws?job_id=<build id>"),
            ("/ws?job_id=", 400, "invalidRequest", #"bad job id "": use 1 to 64 letters, digits, - or _"#),
            ("/ws?job_id=no%20spaces", 400, "invalidRequest", #"bad job id "no spaces": use 1 to 64 letters, digits, - or _"#),
            ("/ws?job_id=nosuchbuild", 404, "notFound", "no build with id nosuchbuild"),
        ]
        for check in cases {
            // A plain GET shows why: the JSON error shape.
            let reply = try await hub.get(check.path)
            #expect(reply.status == check.status, "\(check.path): \(reply.text)")
            #expect(reply.header("Content-Type") == "application/json; charset=utf-8")
            let json = try reply.json()
            #expect(json["status_code"] as? Int == check.status)
            let error = try #require(json["error"] as? [String: Any], "\(reply.text)")
            #expect(error["message"] as? String == check.message, "\(check.path)")
            #expect(error["kind"] as? String == check.kind)

            // A WebSocket handshake is refused: nothing is upgraded.
            let query = check.path.dropFirst(3)
            await #expect(throws: WebSocketClientError.webSocketUpgradeFailed, "\(check.path)") {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(hub.port)/ws\(query)", logger: Logger(label: "test.ws")) { _, _, _ in
                    Issue.record("upgraded \(check.path)")
                }
            }
        }
    }

    @Test func aWatcherJoiningAfterTheBuildGetsTheWholeReplayAndTheFinalFrame() async throws {
        let hub = try await LiveHub.start()
        defer { Task { await hub.stop() } }
        let id = try await Self.submit(hub, Self.helloBuild)
        #expect(try await hub.get("/api/builds/\(id)/artifact").status == 200, "the build finished")
        #expect(try await Self.build(hub, id)["state"] as? String == "succeeded")

        let logs = try #require(hub.hub.api.logs as? MemoryLogBus)
        let logged = try #require(logs.events(of: id)).map(\.text)
        #expect(logged.count > 5)
        let (frames, close) = try await Self.watch(hub, id)
        #expect(close?.closeCode == .normalClosure)
        #expect(frames.map(\.message_type) == ["build_started"] + Array(repeating: "log", count: logged.count) + ["build_success"], "\(frames)")
        #expect(frames.dropFirst().dropLast().map(\.message) == logged)
        #expect(frames.last?.message.hasPrefix("/api/builds/\(id)/artifact sha256 ") == true)

        // A second watcher gets the same frames.
        let (again, _) = try await Self.watch(hub, id)
        #expect(again.map(\.description) == frames.map(\.description))

        // A plain GET (no WebSocket handshake) of a known build says how to connect.
        let plain = try await hub.get("/ws?job_id=\(id)")
        #expect(plain.status == 426, "\(plain.text)")
        #expect(plain.header("Upgrade") == "websocket")
        #expect((try plain.json()["error"] as? [String: Any])?["kind"] as? String == "invalidRequest")
    }

    @Test func aClientThatLeavesWhileTheBuildIsQuietEndsItsLogSubscription() async throws {
        let hub = try await LiveHub.start(goExecutable: try slowGo(seconds: 10))
        defer { Task { await hub.stop() } }
        let id = try await Self.submit(hub, #"{"os": "linux", "arch": "amd64", "packages": ["github.com/proxfixture/hello"]}"#)
        let logs = try #require(hub.hub.api.logs as? MemoryLogBus)
        #expect(logs.subscriberCount(of: id) == 0)

        // Leave once `go build` has started: slowGo keeps it quiet (no lines, nothing to write) for 10 s.
        let (frames, _) = try await Self.watch(hub, id, leaveAt: { $0.message.hasPrefix("$ go build") }) {
            #expect(logs.subscriberCount(of: id) == 1, "the watcher's subscription")
        }
        #expect(frames.first?.message_type == "build_started")
        #expect(frames.last?.message.hasPrefix("$ go build") == true)
        #expect(await eventually(timeout: .seconds(5)) { logs.subscriberCount(of: id) == 0 }, "the subscription ended with the client")
        let state = try await Self.build(hub, id)["state"] as? String
        #expect(state == "queued" || state == "running", "the build goes on: \(state ?? "none")")
    }
}
