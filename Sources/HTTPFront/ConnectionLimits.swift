import BuildCore
import Foundation

/// What one connection may cost the server: how many there may be, how long a client may
/// take to send a request, how large a request may be.
public struct ConnectionLimits: Sendable, Equatable {
    /// Open connections at once; past it a new connection gets 503 and is closed.
    public var maxConnections = 4096
    /// A request's head (request line and headers) must arrive whole within this time of
    /// its first byte, and the first request within this time of the connection's start.
    public var headerTimeout: Duration = .seconds(10)
    /// A keep-alive connection with no request in progress is closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// A request body that sends nothing for this long is refused (408) and closed.
    public var bodyTimeout: Duration = .seconds(30)
    /// The largest header field, and the largest head in all.
    public var maxHeaderBytes = 32 * 1024
    /// The most header fields in one request.
    public var maxHeaderCount = 100
    /// The largest body of a request to the public API (JSON submissions).
    public var maxRequestBody: Int64 = 1 << 20
    /// The largest body of a request under `/api/internal/` (artifact pushes: the cache quota).
    public var maxUploadBody: Int64 = 10_000_000_000

    public init() {}

    func maxBody(path: String) -> Int64 {
        path.hasPrefix("/api/internal/") ? maxUploadBody : maxRequestBody
    }
}
