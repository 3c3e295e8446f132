import BuildCore
import Foundation
import NIOCore

/// First in the pipeline: notes when bytes arrive, so the guard can tell a request head
/// that is arriving too slowly from an idle connection; writes the guard's refusals as
/// bytes; discards what arrives while the connection closes.
final class ByteWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let state: ConnectionGuardHandler.Clock

    init(state: ConnectionGuardHandler.Clock) { self.state = state }

    func handlerAdded(context: ChannelHandlerContext) { state.wire = context }
    func handlerRemoved(context: ChannelHandlerContext) { state.wire = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !state.closing else { return }  // the answer is out; the rest is not read
        let now = NIODeadline.now()
        state.lastByte = now
        if state.awaitingHead, state.headStart == nil { state.headStart = now }
        if state.firstByte == nil { state.firstByte = unwrapInboundIn(data).getInteger(at: unwrapInboundIn(data).readerIndex, as: UInt8.self) }
        context.fireChannelRead(data)
    }
}
