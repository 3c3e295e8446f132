import BuildCore
import Foundation
import Logging

/// The hub-mode ``DownloadCounter``: every hub counts into Redis, so `/api/packages`
/// orders packages the same on every hub behind a load balancer, and cache warming
/// rebuilds what users downloaded through any hub.
///
/// | Key | Type | Holds |
/// | --- | --- | --- |
/// | `downloads` | hash | package path → downloads (`HINCRBY`) |
/// | `download-sets:<UTC day>` | sorted set, with expiry | `<os>/<arch>/<arm or 0> <path>,<path>…` (paths sorted; none: plain Caddy) → downloads that day |
///
/// A day's set expires `retention` after the day ends; the warm window reads only days
/// inside it. Counting is best effort, as in SQLite: a download never fails because
/// Redis did not take its count (logged at debug level; the connection warns of the outage).
public struct RedisDownloadCounter: DownloadCounter {
    public let client: RedisClient
    public let schema: RedisSchema
    /// How long a day's package-set counts are kept (at least the warm window).
    public let retention: Duration
    let logger: Logger

    public init(client: RedisClient, schema: RedisSchema, retention: Duration, logger: Logger) {
        self.client = client
        self.schema = schema
        self.retention = retention
        self.logger = logger
    }

    var pathsKey: String { schema.prefix + "downloads" }
    func setsKey(day: Int) -> String { schema.prefix + "download-sets:" + String(day) }
    static func day(_ date: Date) -> Int { Int((date.timeIntervalSince1970 / 86_400).rounded(.down)) }

    /// A package set and platform as one sorted-set member.
    static func member(packages: [String], platform: Platform) -> String {
        "\(platform.os)/\(platform.arch)/\(platform.arm ?? 0) " + packages.sorted().joined(separator: ",")
    }

    static func popularSet(member: String, downloads: Int) -> PopularSet? {
        guard let space = member.firstIndex(of: " ") else { return nil }
        let target = member[..<space].split(separator: "/", omittingEmptySubsequences: false)
        let paths = member[member.index(after: space)...]
        guard target.count == 3, let arm = Int(target[2]),
            let platform = try? Platform(os: String(target[0]), arch: String(target[1]), arm: arm == 0 ? nil : String(arm))
        else { return nil }
        return PopularSet(packages: paths.isEmpty ? [] : paths.split(separator: ",").map(String.init), platform: platform, downloads: downloads)
    }

    public func recordDownload(packages: [String], platform: Platform) async {
        let now = Date()
        let day = Self.day(now)
        let key = setsKey(day: day)
        // Kept `retention` after the day's end.
        let expires = Int64(day + 1) * 86_400 + retention.components.seconds
        var commands: [[any RedisArgument]] = [["MULTI"]]
        for path in packages { commands.append(["HINCRBY", pathsKey, path, 1]) }
        commands.append(["ZINCRBY", key, 1, Self.member(packages: packages, platform: platform)])
        commands.append(["EXPIREAT", key, expires])
        commands.append(["EXEC"])
        do {
            _ = try await client.pipeline(commands)
        } catch {
            // Debug, as the request rate's count: during an outage the connection warns, once,
            // and a line per download served from disk would bury it.
            logger.debug("download not counted: Redis is not reachable", metadata: ["error": "\(error.message)"])
        }
    }

    public func downloadCounts() async -> [String: Int] {
        guard let items = try? await client.send(["HGETALL", pathsKey]).array else { return [:] }
        var counts: [String: Int] = [:]
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let path = items[index].string, let count = items[index + 1].int { counts[path] = Int(count) }
        }
        return counts
    }

    /// The days from `since`'s to today's summed in Redis (`ZUNIONSTORE` into a key of
    /// this call's own, read and deleted in the same transaction).
    public func popularSets(since: Date, limit: Int) async -> [PopularSet] {
        guard limit > 0 else { return [] }
        let first = Self.day(since), last = Self.day(Date())
        guard first <= last else { return [] }
        let days = Array(first...last).suffix(400)  // a window longer than a year reads its last 400 days
        let scratch = schema.prefix + "download-sets:sum:" + UUID().uuidString
        let union: [any RedisArgument] = ["ZUNIONSTORE", scratch, days.count] + days.map { setsKey(day: $0) as any RedisArgument }
        let replies: [RedisReply]
        do {
            replies = try await client.pipeline([
                ["MULTI"], union, ["ZRANGE", scratch, 0, limit - 1, "REV", "WITHSCORES"], ["DEL", scratch], ["EXEC"],
            ])
        } catch {
            logger.warning("cannot read download counts from Redis", metadata: ["error": "\(error.message)"])
            return []
        }
        guard let results = replies.last?.array, results.count == 3, let ranked = results[1].array else { return [] }
        var sets: [PopularSet] = []
        for index in stride(from: 0, to: ranked.count - 1, by: 2) {
            guard let member = ranked[index].string, let score = ranked[index + 1].string.flatMap(Double.init),
                let set = Self.popularSet(member: member, downloads: Int(score))
            else { continue }
            sets.append(set)
        }
        return sets
    }
}
