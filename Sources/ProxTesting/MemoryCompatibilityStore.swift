import BuildCore
import Synchronization

/// An in-memory ``CompatibilityStore`` for fast tests of the API.
public final class MemoryCompatibilityStore: CompatibilityStore {
    private let rowsByPath = Mutex<[String: [String: CompatibilityRow]]>([:])

    public init() {}

    public func record(_ facts: [CompatibilityFact]) async {
        rowsByPath.withLock { state in
            for fact in facts {
                let row = CompatibilityRow(fact)
                if state[fact.path]?[row.field] != nil {
                    state[fact.path]?[row.field]?.add(fact)
                } else {
                    state[fact.path, default: [:]][row.field] = row
                }
            }
        }
    }

    public func rows(forPackage path: String) async throws(ProxError) -> [CompatibilityRow] {
        rowsByPath.withLock { Array(($0[path] ?? [:]).values) }
    }

    public func lastBuilds() async throws(ProxError) -> [String: LastBuild] {
        rowsByPath.withLock { state in
            state.compactMapValues { rows in rows.values.max { $0.lastAt < $1.lastAt }?.lastBuild }
        }
    }
}
