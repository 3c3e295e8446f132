import BuildCore
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
public final class DownloadMemo: Sendable {
    struct Entry {
        let build: ResolvedBuild
        let expires: ContinuousClock.Instant
        let order: Int
    }

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
            state.map[String(query)] = Entry(build: build, expires: now + ttl, order: state.next)
            state.next += 1
        }
    }

    public var count: Int { entries.withLock { $0.map.count } }
}
