

/// Where a build's log is read from (SSE, WebSocket): every event after `seq`, then live
/// events; the stream ends when the build's log is finished. Nil when the build's log is
/// unknown or has expired.
public protocol LogSource: Sendable {
    func subscribe(to build: BuildID, after seq: Int) async -> AsyncStream<BuildEvent>?
}
