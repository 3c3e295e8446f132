import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket

extension HTTPServerBuilder {
    /// Prox's HTTP server: HTTP/1.1 with WebSocket upgrades (`/ws`), artifact bodies sent
    /// with sendfile(2) (``SendfileHandler``; with TLS they go through the TLS handler
    /// instead), behind ``GuardedChannel``'s limits, optionally over TLS; repeated HEADs of a
    /// cached download answered by `fastPath` (``DownloadFastPathHandler``).
    public static func prox<WebSocketRouter: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WebSocketRouter, limits: ConnectionLimits, connections: ConnectionCounter, tls: ServerTLS? = nil,
        fastPath: DownloadFastPath? = nil
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
            maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes, maxHeaderFieldCount: limits.maxHeaderCount
        )
        return .init { responder in
            GuardedChannel(
                HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(
                        // sendfile(2) cannot encrypt: over TLS, artifacts are read in chunks.
                        http1: .init(
                            additionalChannelHandlers: (tls == nil ? [SendfileHandler()] : []) + (fastPath.map { [DownloadFastPathHandler($0)] } ?? []),
                            idleTimeout: nil, httpDecoderConfiguration: decoder
                        )
                    )
                ),
                limits: limits, connections: connections, tls: tls
            )
        }
    }
}
