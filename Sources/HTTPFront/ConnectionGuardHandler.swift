import BuildCore
import Foundation
import NIOCore
import NIOHTTP1

/// Sits right after the HTTP decoder (before Hummingbird's upgrade handler and codec) and
/// sees every request head, parse error and response:
/// - a parse error (bad request line, method, URL, header, chunk, Content-Length; a head
///   over the header limits) is answered once earlier responses are out: 400, 431 or 501
///   with the JSON error and `Connection: close`, then the connection is closed;
/// - a well-formed method the API does not use (CONNECT, TRACE, QUERY, ...) gets 405; a
///   declared body larger than the route accepts gets 413 at once;
/// - an `Upgrade` other than `websocket` (`h2c`) is ignored (the request is served over
///   HTTP/1.1); a WebSocket handshake with a bad version or key gets 400;
/// - a response with `Connection: close` closes the connection once it is out;
/// - a first request or a request head that takes longer than ``ConnectionLimits/headerTimeout``,
///   or a body silent for ``ConnectionLimits/bodyTimeout``, gets 408; an idle keep-alive
///   connection is closed after ``ConnectionLimits/idleTimeout``.
/// After a WebSocket upgrade (a 101 going out) it removes itself.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What ``ByteWatch`` and the guard share; both run on the connection's event loop.
    final class Clock {
        var lastByte = NIODeadline.now()
        var awaitingHead = true
        /// When the first byte of the head being awaited arrived.
        var headStart: NIODeadline?
        var firstByte: UInt8?
        /// ``ByteWatch``'s context: writes from it go to the socket as they are.
        var wire: ChannelHandlerContext?
        var closing = false
    }

    let limits: ConnectionLimits
    let clock: Clock
    private let opened = NIODeadline.now()
    /// Requests whose head has arrived and whose response has not ended yet.
    private var open = 0
    private var readingBody = false
    private var servedAny = false
    private var responseStarted = false
    private var closeAfterResponse = false
    /// A refusal waiting for earlier responses to end.
    private var pending: GuardResponse?
    private var finished = false
    private var ticker: RepeatedTask?
    private var idleSince = NIODeadline.now()
    private var lastMethod: HTTPMethod?
    /// A 101 has gone out: frames pass through until the guard has left the pipeline.
    private var upgraded = false

    init(limits: ConnectionLimits, clock: Clock) {
        self.limits = limits
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        // A quarter of the shortest timeout, between 100 ms and 1 s: cheap with thousands of
        // connections, and no timeout is overrun by more than a quarter.
        let shortest = min(limits.headerTimeout, limits.bodyTimeout, limits.idleTimeout)
        let period = TimeAmount(min(max(shortest / 4, .milliseconds(100)), .seconds(1)))
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [self] _ in
            self.tick(context: loopContext.value)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !upgraded else { return context.fireChannelRead(data) }
        guard !finished, pending == nil else { return }  // refused: nothing more is served
        switch unwrapInboundIn(data) {
        case .head(var head):
            lastMethod = head.method
            clock.awaitingHead = false
            clock.headStart = nil
            readingBody = true
            if let refusal = refusal(for: &head) {
                refuse(refusal, context: context)
                return
            }
            open += 1
            responseStarted = false
            if !head.isKeepAlive { closeAfterResponse = true }  // the client asked for it
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body:
            context.fireChannelRead(data)
        case .end:
            readingBody = false
            clock.awaitingHead = true
            context.fireChannelRead(data)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else { return }
        if let refusal = Self.refusal(for: error, firstByte: clock.firstByte, limits: limits) {
            refuse(refusal, context: context)
        } else {
            context.fireErrorCaught(error)
        }
    }

    /// What is wrong with a request head the parser accepted, if anything; fixes what it can.
    private func refusal(for head: inout HTTPRequestHead) -> GuardResponse? {
        switch head.method {
        case .GET, .HEAD, .POST, .PUT, .DELETE, .PATCH, .OPTIONS:
            break
        default:
            // A well-formed method no route takes (CONNECT, TRACE, QUERY, BREW, ...): 405.
            // A malformed one is the parser's error (501, below).
            return GuardResponse(
                status: .methodNotAllowed, message: "method \(head.method.rawValue) is not allowed here: use GET or HEAD (POST for /api/builds)",
                headers: [("Allow", "GET, HEAD, POST, PUT, DELETE")]
            )
        }
        let lengths = head.headers.contains(name: "content-length") ? head.headers["content-length"] : []
        if lengths.count > 1, Set(lengths).count > 1 {
            return GuardResponse(status: .badRequest, message: "the request has conflicting Content-Length headers: send one")
        }
        let path = lengths.isEmpty ? "" : head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if let declared = lengths.first.flatMap({ Int64($0) }), declared > limits.maxBody(path: path) {
            let limit = limits.maxBody(path: path)
            return GuardResponse(
                status: .payloadTooLarge,
                message: "the request body (\(declared) bytes) is larger than \(path) accepts: send at most \(limit) bytes"
            )
        }
        let upgrade = head.headers.contains(name: "upgrade") ? head.headers["upgrade"].joined(separator: ",").trimmingCharacters(in: .whitespaces) : ""
        if !upgrade.isEmpty {
            if upgrade.lowercased() == "websocket" {
                let version = head.headers["sec-websocket-version"].first
                let key = head.headers["sec-websocket-key"].first.flatMap { Data(base64Encoded: $0) }
                guard version == "13", key?.count == 16 else {
                    return GuardResponse(
                        status: .badRequest,
                        message: "bad WebSocket handshake: send Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key of 16 base64-encoded bytes",
                        headers: [("Sec-WebSocket-Version", "13")]
                    )
                }
            } else {
                // Only WebSocket upgrades exist here; any other (h2c) is ignored, as RFC 9110 allows.
                head.headers.remove(name: "upgrade")
                head.headers.remove(name: "http2-settings")
                let tokens = head.headers["connection"].flatMap { $0.split(separator: ",") }
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { !["upgrade", "http2-settings"].contains($0.lowercased()) }
                head.headers.remove(name: "connection")
                if !tokens.isEmpty { head.headers.add(name: "Connection", value: tokens.joined(separator: ", ")) }
            }
        }
        return nil
    }

    /// The answer to a parse error: nil for errors that are not the client's.
    static func refusal(for error: any Error, firstByte: UInt8?, limits: ConnectionLimits) -> GuardResponse? {
        if firstByte == 0x16 {
            return GuardResponse(status: .badRequest, message: "this port speaks plain HTTP, not TLS: use http:// (proxhub serves https when started with --tls-cert and --tls-key)")
        }
        guard let error = error as? HTTPParserError else {
            if error is ByteToMessageDecoderError {
                return GuardResponse(status: .badRequest, message: "the request could not be parsed as HTTP/1.1")
            }
            return nil
        }
        switch error {
        case .headerOverflow:
            return GuardResponse(
                status: .init(statusCode: 431, reasonPhrase: "Request Header Fields Too Large"),
                message: "the request head is too large: send at most \(limits.maxHeaderCount) header fields and \(limits.maxHeaderBytes / 1024) KiB of request line and headers"
            )
        case .invalidMethod:
            return GuardResponse(status: .notImplemented, message: "unknown or malformed method: methods are upper-case; use GET or HEAD (POST for /api/builds)")
        case .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment, .invalidHost, .invalidPort:
            return GuardResponse(status: .badRequest, message: "the request URL is malformed: percent-encode spaces, control and non-ASCII characters")
        case .invalidContentLength, .unexpectedContentLength:
            return GuardResponse(status: .badRequest, message: "bad Content-Length (or both Content-Length and Transfer-Encoding): send one valid length")
        case .invalidChunkSize:
            return GuardResponse(status: .badRequest, message: "bad chunk size in the chunked request body")
        case .invalidHeaderToken, .invalidCharactersUsed, .invalidConstant, .lfExpected:
            return GuardResponse(
                status: .badRequest,
                message: "the request line or headers are malformed: percent-encode spaces, control and non-ASCII characters in the URL; header names are tokens; no NUL or control characters; lines end with CRLF"
            )
        case .invalidVersion:
            return GuardResponse(status: .init(statusCode: 505, reasonPhrase: "HTTP Version Not Supported"), message: "only HTTP/1.0 and HTTP/1.1 are served on this port")
        default:
            return GuardResponse(status: .badRequest, message: "the request could not be parsed as HTTP/1.1")
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !upgraded else { return context.write(data, promise: promise) }
        guard !finished else {
            promise?.fail(ChannelError.ioOnClosedChannel)  // the guard has answered and is closing
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status == .switchingProtocols {
                // A WebSocket upgrade: what follows is not HTTP. Leaving the pipeline in the
                // middle of this write would lose the flush behind it, so leave once it is out.
                upgraded = true
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                written.futureResult.whenComplete { _ in
                    let context = loopContext.value
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                }
                context.write(data, promise: written)
                return
            }
            if head.status.code >= 200 {
                responseStarted = true
                if head.headers["connection"].contains(where: { $0.lowercased() == "close" }) { closeAfterResponse = true }
            }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            open = max(0, open - 1)
            servedAny = true
            idleSince = .now()
            if closeAfterResponse {
                let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                context.writeAndFlush(data, promise: written)
                // The request was read whole unless the response came first (a refusal).
                let linger = readingBody
                written.futureResult.whenComplete { _ in
                    self.finished = true
                    Self.end(loopContext.value, state: self.clock, linger: linger)
                }
            } else if open == 0, let refusal = pending {
                context.write(data, promise: promise)
                pending = nil
                respond(refusal, context: context)
            } else {
                context.write(data, promise: promise)
            }
        }
    }

    // MARK: Refusing and closing

    private func refuse(_ refusal: GuardResponse, context: ChannelHandlerContext) {
        if open == 0 || (readingBody && open == 1 && !responseStarted) {
            respond(refusal, context: context)
        } else {
            pending = refusal  // answered after the responses still going out
        }
    }

    private func respond(_ refusal: GuardResponse, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        var refusal = refusal
        refusal.headOnly = lastMethod == .HEAD
        if let wire = clock.wire {
            wire.writeAndFlush(NIOAny(refusal.bytes), promise: nil)
        } else {
            let body = refusal.body
            context.write(wrapOutboundOut(.head(refusal.head(bodyLength: body.readableBytes))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        Self.end(context, state: clock)
    }

    /// Closes the connection: the output at once (after what was written), the input once
    /// the client has stopped sending or after two seconds, so a client still sending a
    /// large request reads the answer instead of a reset. Input is first reported closed,
    /// so Hummingbird's upgrade handler, still waiting for a first request, ends quietly
    /// rather than as an error.
    static func end(_ context: ChannelHandlerContext, state: Clock?, linger: Bool = true) {
        state?.closing = true
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let channel = context.channel
        guard linger else {
            channel.close(promise: nil)
            return
        }
        channel.close(mode: .output, promise: nil)
        channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    private func tick(context: ChannelHandlerContext) {
        guard !finished, !upgraded else { return }
        let now = NIODeadline.now()
        if readingBody {
            guard now - clock.lastByte > .init(limits.bodyTimeout) else { return }
            if responseStarted {
                finished = true
                Self.end(context, state: clock)
            } else {
                refuse(GuardResponse(status: .requestTimeout, message: "the request body stopped arriving for \(limits.bodyTimeout): send it without pauses"), context: context)
            }
        } else if open == 0 {
            if let start = clock.headStart {
                if now - start > .init(limits.headerTimeout) {
                    refuse(GuardResponse(status: .requestTimeout, message: "the request head did not arrive within \(limits.headerTimeout): send the request line and headers at once"), context: context)
                }
            } else if !servedAny {
                if now - opened > .init(limits.headerTimeout) {
                    finished = true
                    Self.end(context, state: clock)  // connected and said nothing
                }
            } else if now - idleSince > .init(limits.idleTimeout) {
                finished = true
                Self.end(context, state: clock)
            }
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
