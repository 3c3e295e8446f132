import BuildCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

extension ProxAPI {
    /// `GET /ws?job_id=<id>`: prox-builder's WebSocket log endpoint, kept for its clients.
    ///
    /// Every message is a text frame holding one JSON object
    /// `{"message_type": "...", "message": "..."}`:
    /// - `build_started` first: `build <id>: Caddy <version> for <target>[ with <plugins>]`;
    /// - `log` for every line of the build's log, replayed from the first line, then live
    ///   (`message` is the line's plain text, as in prox-builder);
    /// - when the log ends, `build_success` (`/api/builds/<id>/artifact sha256 <hex>, <size> bytes`)
    ///   or `build_failed` (the build's error message; also for a cancelled build);
    /// then the server closes the socket normally (1000) and waits up to ``webSocketCloseGrace``
    /// for the client's close. It closes no sooner than ``webSocketMinimumOpen`` after the
    /// upgrade: hummingbird-websocket half-closes TCP right after the close frame, and a client
    /// still completing its upgrade when both arrive can lose them (swift-websocket's
    /// `WebSocketClient` then waits forever), which happens when a finished build's whole log
    /// is sent at once.
    ///
    /// The checks run in `shouldUpgrade`, so nothing is upgraded on error: a missing or bad
    /// `job_id` is a 400 and an unknown id a 404, in the JSON error shape; a plain GET (no
    /// WebSocket handshake) with a known id is a 426. Those statuses and bodies reach plain
    /// GETs only: hummingbird-websocket answers every refused handshake itself with a bare
    /// `400` (`Connection: close`, no body), so a WebSocket client that is refused learns
    /// the reason by sending the same URL as a plain GET. A build whose log is no longer kept sends
    /// `build_started` then, once the build has finished, its final frame. If the build's state
    /// cannot be read (``BuildService`` throwing `.unavailable`), the socket is closed with 1011.
    ///
    /// Messages the client sends are ignored. A client that closes or disconnects ends the
    /// watch at once: the log subscription is cancelled with it. The server pings every 30 s
    /// (the WebSocket default), so proxies keep quiet builds open and dead peers are noticed.
    ///
    /// Lines come from ``LogSource/subscribe(to:after:)`` and the result from
    /// ``BuildService/record(_:)`` only, so any implementation of those seams serves it.
    public func addWebSocketRoutes<Context: RequestContext & WebSocketRequestContext>(to router: Router<Context>) {
        router.group().add(middleware: APIErrorMiddleware()).ws(
            "/ws",
            shouldUpgrade: { request, _ in
                _ = try await self.webSocketRecord(request)
                guard request.headers[.secWebSocketKey] != nil else {
                    throw APIError(
                        ProxError(.invalidRequest, "/ws is a WebSocket endpoint: connect with a WebSocket client, or read /api/builds/{id}/logs"),
                        id: RequestIdentifier.make(), headers: [.upgrade: "websocket"], status: .upgradeRequired
                    )
                }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                await self.watch(context.request, inbound: inbound, outbound: outbound)
            }
        )
    }

    /// How long the server waits for the client's close after closing the socket.
    static var webSocketCloseGrace: Duration { .seconds(15) }

    /// The earliest the server closes a socket after upgrading it.
    static var webSocketMinimumOpen: Duration { .seconds(1) }

    /// The build named by `?job_id=`: 400 when missing or invalid, 404 when unknown.
    func webSocketRecord(_ request: Request) async throws -> BuildRecord {
        guard let id = request.uri.queryParameters["job_id"] else {
            throw ProxError(.invalidRequest, "missing job_id: connect to /ws?job_id=<build id>")
        }
        return try await record(String(id))
    }

    /// Sends the log while reading (and ignoring) what the client sends: whichever ends first
    /// ends the other, so a gone client cancels the log subscription.
    func watch(_ request: Request, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let earliestClose = ContinuousClock.now + Self.webSocketMinimumOpen
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await _ in inbound {}
                } catch {}
            }
            group.addTask {
                do {
                    try await self.sendLog(request, to: outbound)
                    try await Task.sleep(until: earliestClose, clock: .continuous)
                    try await outbound.close(.normalClosure, reason: nil)
                    try await Task.sleep(for: Self.webSocketCloseGrace)
                } catch let error as ProxError {
                    try? await Task.sleep(until: earliestClose, clock: .continuous)
                    try? await outbound.close(.unexpectedServerError, reason: Self.closeReason(error.message))
                    try? await Task.sleep(for: Self.webSocketCloseGrace)
                } catch {}
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func sendLog(_ request: Request, to outbound: WebSocketOutboundWriter) async throws {
        let record: BuildRecord
        do {
            record = try await webSocketRecord(request)
        } catch let error as ProxError where error.kind == .notFound {
            try await Self.send(.buildFailed, error.message, to: outbound)
            return
        }
        let build = record.build
        let plugins = build.plugins.isEmpty ? "" : " with " + build.plugins.map(\.description).joined(separator: ", ")
        try await Self.send(.buildStarted, "build \(record.id): Caddy \(build.caddyVersion) for \(build.platform)\(plugins)", to: outbound)
        if let events = await logs.subscribe(to: record.id, after: 0) {
            for await event in events {
                try await Self.send(.log, event.text, to: outbound)
            }
        }
        try Task.checkCancellation()  // the stream also ends when the client has gone
        // The log ends when the build does; a log no longer kept ends at once: wait for the result.
        var final = try await builds.record(record.id)
        while let current = final, !current.isFinished {
            try await Task.sleep(for: .milliseconds(250))
            final = try await builds.record(record.id)
        }
        guard let final else {
            try await Self.send(.buildFailed, "no build with id \(record.id) any more: builds are forgotten after a while", to: outbound)
            return
        }
        if final.state == .succeeded, let digest = final.digest, let size = final.size {
            try await Self.send(.buildSuccess, "/api/builds/\(final.id)/artifact sha256 \(digest), \(size) bytes", to: outbound)
        } else {
            try await Self.send(.buildFailed, final.error?.message ?? "build \(final.id) \(final.state.rawValue)", to: outbound)
        }
    }

    /// One prox-builder message.
    struct BuilderMessage: Encodable {
        enum Kind: String, Encodable {
            case log, buildStarted = "build_started", buildFailed = "build_failed", buildSuccess = "build_success"
        }
        let messageType: Kind
        let message: String

        enum CodingKeys: String, CodingKey { case messageType = "message_type", message }
    }

    private static func send(_ kind: BuilderMessage.Kind, _ message: String, to outbound: WebSocketOutboundWriter) async throws {
        let data = try JSONEncoder.prox.encode(BuilderMessage(messageType: kind, message: message))
        // Long messages (a compiler error) are split into frames of the negotiated maximum size.
        try await outbound.writeTextMessage(String(decoding: data, as: UTF8.self))
    }

    /// A close reason fits in a control frame: at most 123 bytes of UTF-8.
    static func closeReason(_ message: String) -> String {
        var reason = ""
        for character in message {
            guard reason.utf8.count + character.utf8.count <= 123 else { break }
            reason.append(character)
        }
        return reason
    }
}
