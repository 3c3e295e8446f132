import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Prox's request context: Hummingbird's WebSocket-capable one, plus the peer address
/// (for per-client limits) and the connection's channel (for the zero-copy hand-off of
/// artifact bodies to its ``SendfileHandler``).
public struct ProxRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let remoteAddress: SocketAddress?
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// The slot of the connection's ``SendfileHandler``; nil when its pipeline has none.
    public func sendfileSlot() async -> SendfileSlot? {
        let channel = self.channel
        return try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: SendfileHandler.self).slot
        }.get()
    }
}

extension RequestContext {
    /// The connection's ``SendfileSlot``, when the context knows its channel
    /// (``ProxRequestContext`` does).
    func sendfileSlot() async -> SendfileSlot? {
        await (self as? ProxRequestContext)?.sendfileSlot()
    }
}
