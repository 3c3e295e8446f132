import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket

extension HTTPServerBuilder {
    /// Prox's HTTP server: HTTP/1.1 with WebSocket upgrades (`/ws`), artifact bodies sent
    /// with sendfile(2) (``SendfileHandler``), behind ``GuardedChannel``'s limits.
    public static func prox<WebSocketRouter: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WebSocketRouter, limits: ConnectionLimits, connections: ConnectionCounter
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes, maxHeaderFieldCount: limits.maxHeaderCount
        )
        return .init { responder in
            GuardedChannel(
                HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(http1: .init(additionalChannelHandlers: [SendfileHandler()], idleTimeout: nil, httpDecoderConfiguration: decoder))
                ),
                limits: limits, connections: connections
            )
        }
    }
}
