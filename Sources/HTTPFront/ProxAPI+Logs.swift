import BuildCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension ProxAPI {
    /// `GET /api/builds/{id}/logs`: Server-Sent Events. Every line from the one after
    /// `Last-Event-ID` (or `?after=`; from the first by default), then live lines, each with
    /// `id: <seq>`; comment heartbeats while idle; a final `result` event with the build.
    func logStream(_ request: Request, id: String) async throws -> Response {
        let record = try await self.record(id)
        let after = Int(request.headers[Self.lastEventID] ?? request.uri.queryParameters["after"].map { String($0) } ?? "") ?? 0
        let events = await logs.subscribe(to: record.id, after: after)
        let heartbeat = options.heartbeat
        let builds = self.builds
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8"]
        headers[.cacheControl] = "no-cache"
        headers[Self.accelBuffering] = "no"
        let body = ResponseBody { writer in
            let (items, continuation) = AsyncStream.makeStream(of: SSEItem.self)
            let forward = Task {
                if let events {
                    for await event in events { continuation.yield(.event(event)) }
                }
                continuation.finish()
            }
            let beat = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: heartbeat)
                    continuation.yield(.heartbeat)
                }
            }
            defer {
                forward.cancel()
                beat.cancel()
            }
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            for await item in items {
                try await writer.write(ByteBuffer(string: item.encoded))
            }
            let final: BuildRecord??
            do {
                final = try await builds.record(record.id)
            } catch {
                final = nil  // Redis cannot be reached: the client reconnects and asks again
            }
            switch final {
            case .some(.some(let final)):
                let data = String(decoding: try JSONEncoder.prox.encode(BuildView(final)), as: UTF8.self)
                try await writer.write(ByteBuffer(string: "event: result\ndata: \(data)\n\n"))
            case .some(.none):
                // The build is gone (hub mode: Redis lost its state): say so, so that no
                // client waits for a result that will never come.
                try await writer.write(ByteBuffer(string: "event: result\ndata: \(try Self.lostResult(record))\n\n"))
            case .none:
                break
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The last known view of a build that was lost, with `state: "lost"` and the error.
    static func lostResult(_ record: BuildRecord) throws -> String {
        var view = try JSONSerialization.jsonObject(with: try JSONEncoder.prox.encode(BuildView(record))) as? [String: Any] ?? [:]
        let error = ProxError(
            .unavailable,
            "build \(record.id) was lost: the build queue lost its state while the build was queued or running: request the build again"
        )
        view["state"] = "lost"
        view["error"] = ["kind": error.kind.rawValue, "message": error.message]
        return String(decoding: try JSONSerialization.data(withJSONObject: view, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let accelBuffering = HTTPField.Name("X-Accel-Buffering")!
}

enum SSEItem: Sendable {
    case event(BuildEvent)
    case heartbeat

    var encoded: String {
        switch self {
        case .heartbeat:
            return ": heartbeat\n\n"
        case .event(let event):
            let data = (try? JSONEncoder.prox.encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            return "id: \(event.seq)\nevent: log\ndata: \(data)\n\n"
        }
    }
}
