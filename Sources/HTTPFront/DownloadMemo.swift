import BuildCore
import HTTPTypes
import Synchronization

/// The hot path of repeated downloads: `/api/download`'s raw query string → the build it
/// resolved to, so an identical request (the same client polling, a page's HEAD then GET,
/// many users of one popular set) skips parsing, the catalog check and version resolution.
///
/// Bounded and short-lived: an entry lives for `--resolve-ttl`, as the resolver's own
/// answers do, so a new release or a catalog change is seen at most twice that long after
/// it happens (an entry made from an answer the resolver had cached for a while lives its
/// own full TTL); at `capacity` entries the oldest half is dropped. It holds no
/// artifact: every request still looks its key up in the cache, so an evicted or removed
/// artifact is never served from here. Requests that name a build (`job_id`) and requests
/// that failed are not remembered.
///
/// Once such a query has been answered with a cache hit, the entry also keeps that answer's
/// headers (a ``HotResponse``), so a repeated HEAD is answered on the connection's event
/// loop by ``DownloadFastPath`` for the rest of the entry's life.
public final class DownloadMemo: Sendable {
    struct Entry {
        let build: ResolvedBuild
        let expires: ContinuousClock.Instant
        let order: Int
        var hot: HotResponse?
        var touched: ContinuousClock.Instant
    }

    /// How often a hot entry's file is checked and its hits passed on to the cache (its
    /// last access, for LRU).
    public static let touchInterval = Duration.seconds(1)

    private let entries = Mutex<(map: [String: Entry], next: Int)>(([:], 0))
    public let ttl: Duration
    public let capacity: Int

    public init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = max(2, capacity)
    }

    /// The build `query` resolved to, if that was less than ``ttl`` ago.
    public func build(for query: Substring, now: ContinuousClock.Instant = .now) -> ResolvedBuild? {
        entries.withLock { state in
            guard let entry = state.map[String(query)] else { return nil }
            guard entry.expires > now else {
                state.map[String(query)] = nil
                return nil
            }
            return entry.build
        }
    }

    public func remember(_ build: ResolvedBuild, for query: Substring, now: ContinuousClock.Instant = .now) {
        guard ttl > .zero else { return }
        entries.withLock { state in
            if state.map.count >= capacity {
                // Drop the older half (and anything expired): one pass, then room for many.
                let cut = state.next - capacity / 2
                state.map = state.map.filter { $0.value.order >= cut && $0.value.expires > now }
            }
            state.map[String(query)] = Entry(build: build, expires: now + ttl, order: state.next, hot: nil, touched: now)
            state.next += 1
        }
    }

    /// Keeps `hot`, the answer to a cache hit on `build` for `query`, until the entry
    /// expires; nothing when `query` is not remembered as `build` (it named a build, or it
    /// expired and resolved anew meanwhile), or already has this answer.
    public func attach(_ hot: HotResponse, of build: ResolvedBuild, for query: Substring, now: ContinuousClock.Instant = .now) {
        entries.withLock { state in
            let key = String(query)
            guard var entry = state.map[key], entry.expires > now, entry.build == build, entry.hot?.path != hot.path else { return }
            entry.hot = hot
            entry.touched = now - Self.touchInterval
            state.map[key] = entry
        }
    }

    /// The ready answer for `query`, if there is one and its entry is alive; `touch` is true
    /// once per ``touchInterval`` (the caller then checks the file and tells the cache about
    /// the hit). A new ready answer starts with `touch` due.
    public func hot(for query: Substring, now: ContinuousClock.Instant = .now) -> (response: HotResponse, touch: Bool)? {
        entries.withLock { state in
            let key = String(query)
            guard var entry = state.map[key], let hot = entry.hot, entry.expires > now else { return nil }
            guard now - entry.touched >= Self.touchInterval else { return (hot, false) }
            entry.touched = now
            state.map[key] = entry
            return (hot, true)
        }
    }

    /// Forgets the ready answer for `query` (its file is gone: evicted or removed); the
    /// resolved build stays, and the next request looks the key up again.
    public func detach(_ query: Substring) {
        entries.withLock { state in
            state.map[String(query)]?.hot = nil
        }
    }

    public var count: Int { entries.withLock { $0.map.count } }
}

/// A cache hit's answer to `/api/download`, ready to write again: the response's header
/// fields (all but `Date` and `Server`, which are added when it is sent) and the artifact
/// file they describe.
public struct HotResponse: Sendable {
    public let fields: HTTPFields
    public let path: String
    public let size: Int64
    public let key: CacheKey

    public init(fields: HTTPFields, path: String, size: Int64, key: CacheKey) {
        self.fields = fields
        self.path = path
        self.size = size
        self.key = key
    }
}
