import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zero-copy artifact bodies: sends a byte range of an open file with `sendfile(2)` (NIO's
/// `FileRegion`) instead of reading it into buffers.
///
/// Hummingbird's response body writer carries only `ByteBuffer`s, so a file cannot be
/// handed to it directly. This handler sits in each HTTP/1 connection's pipeline, right after
/// `HTTP1ToHTTPServerCodec` (Hummingbird's `additionalChannelHandlers`), and owns the
/// connection's ``SendfileSlot``. A response finds the slot through its request context
/// (``ProxRequestContext/sendfileSlot()`` looks this handler up in the context's channel),
/// and `ArtifactResponse` falls back to reading chunks when there is none (router tests,
/// TLS). The handler replaces a response body part that is a token of its slot (made by
/// ``SendfileSlot/enqueue(fd:offset:count:)``) with the file region it stands for,
/// written below the codec, straight into NIO's HTTP/1 encoder.
///
/// The slot owns a duplicate of the file descriptor from the moment the token is made:
/// it is closed when the region has been written (or failed), when the token is discarded,
/// or when the connection closes before the token arrived. An artifact evicted while it is
/// being sent stays readable through that descriptor, so a response is never cut short.
///
/// No middleware may transform the body of artifact responses (compression, say): the
/// token must reach this handler as it was written.
public final class SendfileHandler: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    /// This connection's pending file regions.
    public let slot = SendfileSlot()

    public init() {}

    public func handlerRemoved(context: ChannelHandlerContext) {
        slot.close()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .body(let buffer) = unwrapOutboundIn(data), let pending = slot.take(token: buffer) else {
            context.write(data, promise: promise)
            return
        }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: pending.fd)
        let codec: ChannelHandlerContext
        do {
            codec = try context.pipeline.syncOperations.context(handlerType: HTTP1ToHTTPServerCodec.self)
        } catch {
            try? handle.close()
            promise?.fail(error)
            context.fireErrorCaught(error)
            return
        }
        let region = FileRegion(fileHandle: handle, readerIndex: Int(pending.offset), endIndex: Int(pending.offset + pending.count))
        SendfileSlot.regions.add(1, ordering: .relaxed)
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in try? handle.close() }
        if let promise { written.futureResult.cascade(to: promise) }
        // Below the codec: NIO's HTTPResponseEncoder takes IOData, file regions included.
        codec.write(NIOAny(HTTPServerResponsePart.body(.fileRegion(region))), promise: written)
    }
}
