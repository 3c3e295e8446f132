import BuildCore
import CoreMetrics
import FileIO
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import ProxMetrics
import Synchronization

#if canImport(Glibc)
import Glibc  // time(2)
#elseif canImport(Darwin)
import Darwin
#endif

/// Repeated `HEAD /api/download` requests answered on the connection's event loop.
///
/// A client that polls a popular build with HEAD (caddyserver.com's page does, before it
/// follows `Location`) asks the same question many times a second. Once ``ProxAPI`` has
/// answered a query with a cache hit, the ``DownloadMemo`` keeps that answer's headers
/// (``HotResponse``) for the query's resolution TTL; a ``DownloadFastPathHandler`` in each
/// connection's pipeline answers the next identical HEAD from it, without the trip to
/// Swift concurrency, the router and its middleware.
///
/// What it answers is what the ordinary path would: the same headers (`Date` and `Server`
/// added), after the same checks, in the same order as ``ClientPolicyMiddleware``:
/// - the pull token on a private server (a request without a valid one takes the
///   ordinary path, which answers 401);
/// - `--client-request-rate`, counted through the limiter's
///   ``RequestRateLimiter/immediateCounter`` (a refused request takes the ordinary path,
///   which answers 429); with a limiter that needs a round trip (Redis, in hub mode, with a
///   rate set) there is no fast path at all;
/// - the artifact's file still exists with its size (a `stat`, at most once per
///   ``DownloadMemo/touchInterval`` per query, as nginx's `open_file_cache_valid` does): an
///   evicted or removed artifact drops the ready answer and the request takes the ordinary
///   path, so a HEAD may describe an artifact evicted less than a second ago, never a GET;
/// - the request is counted in `prox_http_requests_total` and `prox_downloads_total` and
///   logged as the ordinary path does; every ``DownloadMemo/touchInterval`` its hits are
///   passed to the cache (a lookup), so LRU sees a key kept alive by HEADs alone.
/// Anything else (GET, conditional or range requests, `Connection: close`, a request body,
/// a request pipelined behind one the router is still answering) takes the ordinary path.
/// ``ProxAPI`` keeps no ready answers when downloads redirect (`--download-redirect`) or
/// are checked on read (`--verify-on-read`).
public final class DownloadFastPath: Sendable {
    let memo: DownloadMemo
    let access: AccessPolicy
    let clients: ClientIdentifier
    let countRequest: (@Sendable (ClientID) -> Int?)?
    let touch: @Sendable (CacheKey) -> Void
    let serverName: String?
    let logger: Logger
    let requests: CoreMetrics.Counter?
    let hits: CoreMetrics.Counter?
    let duration: CoreMetrics.Timer?
    private let answered = Atomic<Int>(0)

    /// Requests answered here since this fast path was made.
    public var answers: Int { answered.load(ordering: .relaxed) }

    static let path = "/api/download"

    init(
        memo: DownloadMemo, access: AccessPolicy, clients: ClientIdentifier, countRequest: (@Sendable (ClientID) -> Int?)?,
        touch: @escaping @Sendable (CacheKey) -> Void, serverName: String?, metrics: ProxMetrics?, logger: Logger
    ) {
        self.memo = memo
        self.access = access
        self.clients = clients
        self.countRequest = countRequest
        self.touch = touch
        self.serverName = serverName
        self.logger = logger
        // The same series RequestMetricsMiddleware counts the ordinary path's answers in.
        requests = metrics?.counter("prox_http_requests_total", [("route", Self.path), ("method", "HEAD"), ("status", "200")])
        hits = metrics?.counter("prox_downloads_total", [("cache", "hit")])
        duration = metrics?.timer("prox_http_request_duration_seconds", [("route", Self.path), ("method", "HEAD")])
    }

    /// The header fields to answer `request` with, or nil when the ordinary path must.
    func answer(_ request: HTTPRequest, peer: SocketAddress?, date: String) -> HTTPFields? {
        let began = ContinuousClock.now
        guard request.method == .head, let target = request.path, target.hasPrefix(Self.path) else { return nil }
        let rest = target.utf8.dropFirst(Self.path.utf8.count)
        guard rest.first == UInt8(ascii: "?") else { return nil }
        let query = Substring(target)[rest.index(after: rest.startIndex)...]
        let headers = request.headerFields
        guard headers[.range] == nil, headers[.ifRange] == nil, headers[.ifNoneMatch] == nil, headers[.contentLength] == nil,
            headers[.transferEncoding] == nil, headers[.expect] == nil, !Self.closes(headers)
        else { return nil }
        guard let (hot, touch) = memo.hot(for: query) else { return nil }
        if touch {
            // Once a second per query (as nginx's open_file_cache_valid does): the file is
            // still there, and the cache hears of the hits. Checked before the request is
            // counted, so a request passed on here is counted once, by the router.
            guard FileStatus.isRegularFile(hot.path, size: hot.size) else {
                memo.detach(query)
                return nil
            }
            self.touch(hot.key)
        }
        // ClientPolicyMiddleware's checks for the API area, in its order.
        let accepted = access.accepted(headers, for: .api)
        if access.isPrivate, accepted == nil { return nil }
        if let countRequest, countRequest(clients.client(peer: peer, headers: headers, acceptedToken: accepted)) != nil { return nil }
        var fields = hot.fields
        fields[.date] = date
        if let serverName { fields[.server] = serverName }
        logger.info(
            "Request",
            metadata: [
                "hb.request.path": .string(target), "hb.request.method": "HEAD", "prox.fast_path": "true",
            ]
        )
        answered.add(1, ordering: .relaxed)
        requests?.increment()
        hits?.increment()
        let (seconds, attoseconds) = (ContinuousClock.now - began).components
        duration?.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        return fields
    }

    static func closes(_ headers: HTTPFields) -> Bool {
        headers[values: .connection].contains { $0.lowercased().contains("close") }
    }
}

/// One connection's ``DownloadFastPath``: sits after the HTTP codec (Hummingbird's
/// `additionalChannelHandlers`), answers what the fast path can, and passes everything
/// else on. It answers only when no request it passed on is still being answered, so
/// responses on a keep-alive connection keep the order of their requests.
public final class DownloadFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    let fastPath: DownloadFastPath
    /// Requests passed on whose response has not ended yet.
    private var passedOn = 0
    /// The rest of a request answered here (its end) is dropped.
    private var answered = false
    private var unflushed = false
    private var dateSecond = -1
    private var dateText = ""

    public init(_ fastPath: DownloadFastPath) {
        self.fastPath = fastPath
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let request):
            if passedOn == 0, let fields = fastPath.answer(request, peer: context.channel.remoteAddress, date: date()) {
                answered = true
                context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
                context.write(wrapOutboundOut(.end(nil)), promise: nil)
                unflushed = true
                return
            }
            passedOn += 1
            context.fireChannelRead(data)
        case .body, .end:
            guard answered else { return context.fireChannelRead(data) }
            if case .end = part { answered = false }
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if unflushed {
            unflushed = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { passedOn = max(0, passedOn - 1) }
        context.write(data, promise: promise)
    }

    /// RFC 9110's date, made once a second per connection.
    private func date() -> String {
        let now = time(nil)
        if now != dateSecond {
            dateSecond = now
            dateText = ArtifactResponse.httpDate(seconds: now)
        }
        return dateText
    }
}
