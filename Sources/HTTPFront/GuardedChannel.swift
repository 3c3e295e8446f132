import BuildCore
import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Wraps an HTTP child channel (Hummingbird's HTTP/1 + WebSocket upgrade channel) with
/// ``ConnectionGuardHandler``: every request the HTTP parser rejects is answered (400, 413,
/// 431, 501 in the JSON error shape) and the connection closed; slow and idle connections
/// are closed; the number of connections is capped.
public struct GuardedChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let limits: ConnectionLimits
    let connections: ConnectionCounter
    /// With TLS: the server's certificate (the TLS handler comes first, the guard sees plain HTTP).
    let tls: ServerTLS?

    public init(_ base: Base, limits: ConnectionLimits, connections: ConnectionCounter, tls: ServerTLS? = nil) {
        self.base = base
        self.limits = limits
        self.connections = connections
        self.tls = tls
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admitted = connections.open(limit: limits.maxConnections)
        channel.closeFuture.whenComplete { _ in if admitted { connections.close() } }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            guard admitted else {
                // Over the cap: a plain-HTTP 503, or (TLS) just the close.
                try operations.addHandler(tls == nil ? ConnectionRefuser() : ConnectionRefuser(plain: false), position: .first)
                return value
            }
            let state = ConnectionGuardHandler.Clock()
            if let tls {
                let handler = NIOSSLServerHandler(context: tls.current)
                try operations.addHandler(handler, position: .first)
                try operations.addHandler(ByteWatch(state: state), position: .after(handler))
            } else {
                try operations.addHandler(ByteWatch(state: state), position: .first)
            }
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(ConnectionGuardHandler(limits: limits, clock: state), position: .after(decoder))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
