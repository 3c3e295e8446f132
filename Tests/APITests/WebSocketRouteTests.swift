import BuildCore
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import NIOWebSocket
import ProxTestSupport
import ProxTesting
import Synchronization
import Testing

/// prox-builder's `/ws?job_id=<id>` on the scripted runner, through proxhub's server
/// pipeline: the frames, their order and JSON shape, the replay for a late watcher, the
/// refusals, and a leaving client's subscription.
@Suite struct WebSocketRouteTests {
    struct Frame: Decodable, Sendable, CustomStringConvertible {
        let messageType: String
        let message: String
        var description: String { "\(messageType): \(message)" }

        enum CodingKeys: String, CodingKey { case messageType = "message_type", message }
    }

    /// Frames received so far, shared with the client's handler.
    final class FrameLog: Sendable {
        private let frames = Mutex<[Frame]>([])
        var all: [Frame] { frames.withLock { $0 } }
        func append(_ frame: Frame) { frames.withLock { $0.append(frame) } }
    }

    static let body = #"{"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/hello@v0.2.0"], "version": "v2.8.0"}"#

    static func submit(_ client: any TestClientProtocol, _ body: String = body) async throws -> BuildID {
        let accepted = try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: body))
        #expect(accepted.status == .accepted, "\(accepted.text)")
        return try BuildID(validating: try #require((try accepted.json()["result"] as? [String: Any])?["id"] as? String))
    }

    /// Watches `/ws?job_id=<id>` until the server closes (or a frame matches `leaveAt`:
    /// then `whileConnected` runs and the client leaves).
    static func watch(
        port: Int, _ id: BuildID, leaveAt: (@Sendable (Frame) -> Bool)? = nil, whileConnected: @escaping @Sendable () async -> Void = {}
    ) async throws -> (frames: [Frame], close: WebSocketCloseFrame?) {
        let log = FrameLog()
        let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws?job_id=\(id)", logger: Logger(label: "test.ws")) { inbound, _, _ in
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

    @Test func aFinishedBuildIsReplayedWholeThenItsResultThenANormalClose() async throws {
        let api = try await InProcessAPI(script: .init(lines: ["compiling", "linking", "done"]))
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            let id = try await Self.submit(client)
            #expect(try await client.execute(uri: "/api/builds/\(id)/artifact", method: .get).status == .ok, "the build finished")
            let logged = try #require(api.logs.events(of: id)).map(\.text)
            #expect(logged.contains("linking"))

            let (frames, close) = try await Self.watch(port: port, id)
            #expect(close?.closeCode == .normalClosure)
            #expect(frames.map(\.messageType) == ["build_started"] + Array(repeating: "log", count: logged.count) + ["build_success"], "\(frames)")
            #expect(frames.first?.message == "build \(id): Caddy v2.8.0 for linux/arm64 with github.com/proxfixture/hello@v0.2.0")
            #expect(frames.dropFirst().dropLast().map(\.message) == logged)
            let digest = try #require(await api.store.entries(limit: 1).first?.digest)
            #expect(frames.last?.message.hasPrefix("/api/builds/\(id)/artifact sha256 \(digest), ") == true, "\(frames.last?.message ?? "")")

            // A plain GET of a known build says how to connect.
            let plain = try await client.execute(uri: "/ws?job_id=\(id)", method: .get)
            #expect(plain.status == .upgradeRequired, "\(plain.text)")
            #expect(plain.headers[.upgrade] == "websocket")
            #expect(try plain.error().message.hasPrefix("/ws is a WebSocket endpoint"))
        }
    }

    @Test func aFailedBuildEndsWithBuildFailedAndItsMessage() async throws {
        let failure = ProxError(.buildFailed, "broken.go:27: undefined: caddy.Nothing")
        let api = try await InProcessAPI(script: .init(lines: ["compiling"], failure: failure))
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            let id = try await Self.submit(client)
            let (frames, close) = try await Self.watch(port: port, id)
            #expect(close?.closeCode == .normalClosure)
            #expect(frames.first?.messageType == "build_started")
            #expect(frames.last?.messageType == "build_failed")
            #expect(frames.last?.message.contains("broken.go:27: undefined: caddy.Nothing") == true, "\(frames.last?.message ?? "")")
        }
    }

    @Test func aMissingBadOrUnknownJobIDIsRefusedWithJSONAndNoUpgrade() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            let cases: [(path: String, status: Int, kind: String, message: String)] = [
                ("/ws", 400, "invalidRequest", "missing job_id: connect to /ws?job_id=<build id>"),
                ("/ws?job_id=", 400, "invalidRequest", #"bad job id "": use 1 to 64 letters, digits, - or _"#),
                ("/ws?job_id=no%20spaces", 400, "invalidRequest", #"bad job id "no spaces": use 1 to 64 letters, digits, - or _"#),
                ("/ws?job_id=nosuchbuild", 404, "notFound", "no build with id nosuchbuild"),
            ]
            for check in cases {
                // A plain GET shows why, in the JSON error shape.
                let reply = try await client.execute(uri: check.path, method: .get)
                #expect(Int(reply.status.code) == check.status, "\(check.path): \(reply.text)")
                #expect(reply.headers[.contentType] == "application/json; charset=utf-8")
                let json = try reply.json()
                #expect(json["status_code"] as? Int == check.status)
                #expect(try reply.error().message == check.message, "\(check.path)")
                #expect((json["error"] as? [String: Any])?["kind"] as? String == check.kind)

                // A WebSocket handshake is refused: nothing is upgraded.
                let query = check.path.dropFirst(3)
                await #expect(throws: WebSocketClientError.webSocketUpgradeFailed, "\(check.path)") {
                    try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws\(query)", logger: Logger(label: "test.ws")) { _, _, _ in
                        Issue.record("upgraded \(check.path)")
                    }
                }
            }
        }
    }

    @Test func aClientThatLeavesWhileTheBuildIsQuietEndsItsLogSubscription() async throws {
        let api = try await InProcessAPI(script: .init(lines: ["compiling"], duration: .seconds(30)))
        defer { api.cleanUp() }
        try await api.testServer { port, client in
            let id = try await Self.submit(client)
            #expect(api.logs.subscriberCount(of: id) == 0)
            let logs = api.logs
            let (frames, _) = try await Self.watch(port: port, id, leaveAt: { $0.message == "compiling" }) {
                #expect(logs.subscriberCount(of: id) == 1, "the watcher's subscription")
            }
            #expect(frames.first?.messageType == "build_started")
            #expect(frames.last?.message == "compiling")
            #expect(await eventually(timeout: .seconds(5)) { logs.subscriberCount(of: id) == 0 }, "the subscription ended with the client")
            let state = (try await client.execute(uri: "/api/builds/\(id)", method: .get).json()["result"] as? [String: Any])?["state"] as? String
            #expect(state == "running", "the build goes on: \(state ?? "none")")
        }
    }
}
