import BuildCore
import Foundation
import NIOCore
import NIOHTTP1

/// First in the pipeline of a connection over ``ConnectionLimits/maxConnections``: answers
/// 503 and closes.
final class ConnectionRefuser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let plain: Bool

    init(plain: Bool = true) { self.plain = plain }

    func channelActive(context: ChannelHandlerContext) {
        guard plain else {
            context.fireChannelActive()
            ConnectionGuardHandler.end(context, state: nil, linger: false)
            return
        }
        let response = GuardResponse(
            status: .serviceUnavailable, message: "the server has too many open connections: retry in a few seconds",
            headers: [("Retry-After", "5")]
        )
        context.writeAndFlush(NIOAny(response.bytes), promise: nil)
        context.fireChannelActive()
        ConnectionGuardHandler.end(context, state: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // nothing read is served
}
