import BuildCore
import Foundation
import Logging

/// The hub-mode ``CompatibilityStore``: agents record what their builds taught, every hub
/// reads it.
///
/// | Key | Type | Holds |
/// | --- | --- | --- |
/// | `compat:<package path>` | hash | per `<version> <caddy> <go> <target>`: `…\ts` successes, `…\tf` failures (`HINCRBY`), `…\te` the newest failure's compiler line, `…\tl` 1 when the newest build succeeded, `…\tt` its time (ms) |
/// | `compat-last` | hash | package path → JSON ``LastBuild``, the package's newest build |
///
/// A fact's counts and attributes change in one `MULTI`/`EXEC`. Nothing expires: the
/// records are small (one field set per combination ever built).
public struct RedisCompatibilityStore: CompatibilityStore {
    public let client: RedisClient
    public let schema: RedisSchema
    let logger: Logger

    public init(client: RedisClient, schema: RedisSchema, logger: Logger) {
        self.client = client
        self.schema = schema
        self.logger = logger
    }

    func key(_ path: String) -> String { schema.prefix + "compat:" + path }
    var lastKey: String { schema.prefix + "compat-last" }

    public func record(_ facts: [CompatibilityFact]) async {
        guard !facts.isEmpty else { return }
        var commands: [[any RedisArgument]] = [["MULTI"]]
        for fact in facts {
            let row = CompatibilityRow(fact)
            let key = key(fact.path), field = row.field
            commands.append(["HINCRBY", key, field + "\ts", fact.succeeded ? 1 : 0])
            commands.append(["HINCRBY", key, field + "\tf", fact.succeeded ? 0 : 1])
            if let error = fact.error { commands.append(["HSET", key, field + "\te", error]) }
            commands.append(["HSET", key, field + "\tl", fact.succeeded ? 1 : 0, field + "\tt", Self.milliseconds(fact.at)])
            if let last = try? String(decoding: JSONEncoder().encode(row.lastBuild), as: UTF8.self) {
                commands.append(["HSET", lastKey, fact.path, last])
            }
        }
        commands.append(["EXEC"])
        do {
            _ = try await client.pipeline(commands)
        } catch {
            logger.warning("cannot record what a build taught about its plugins", metadata: ["error": "\(error.message)"])
        }
    }

    public func rows(forPackage path: String) async throws(ProxError) -> [CompatibilityRow] {
        let reply: RedisReply
        do {
            reply = try await client.send(["HGETALL", key(path)])
        } catch {
            throw ProxError(.unavailable, "cannot read the compatibility records from Redis: \(error.message)")
        }
        var fields: [String: [Character: String]] = [:]
        let items = reply.array ?? []
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            guard let name = items[index].string, let value = items[index + 1].string, let tab = name.lastIndex(of: "\t"),
                let kind = name[name.index(after: tab)...].first
            else { continue }
            fields[String(name[..<tab]), default: [:]][kind] = value
        }
        return fields.compactMap { field, values in
            let parts = field.split(separator: " ").map(String.init)
            guard parts.count == 4 else { return nil }
            return CompatibilityRow(
                path: path, version: parts[0], caddyVersion: parts[1], goVersion: parts[2], target: parts[3],
                succeeded: Int(values["s"] ?? "") ?? 0, failed: Int(values["f"] ?? "") ?? 0, lastError: values["e"],
                lastSucceeded: values["l"] == "1", lastAt: Date(timeIntervalSince1970: (Double(values["t"] ?? "") ?? 0) / 1000)
            )
        }
    }

    public func lastBuilds() async throws(ProxError) -> [String: LastBuild] {
        let reply: RedisReply
        do {
            reply = try await client.send(["HGETALL", lastKey])
        } catch {
            throw ProxError(.unavailable, "cannot read the compatibility records from Redis: \(error.message)")
        }
        var builds: [String: LastBuild] = [:]
        let items = reply.array ?? []
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            guard let path = items[index].string, case .bulk(let bytes) = items[index + 1],
                let last = try? JSONDecoder().decode(LastBuild.self, from: Data(bytes))
            else { continue }
            builds[path] = last
        }
        return builds
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
}
