import BuildCore
import Foundation
import Synchronization

/// The number of open connections, shared by every connection of a server.
public final class ConnectionCounter: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    /// Counts a new connection; false (and not counted) when `limit` are already open.
    func open(limit: Int) -> Bool {
        let now = count.add(1, ordering: .relaxed).newValue
        if now > limit {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func close() { count.subtract(1, ordering: .relaxed) }

    /// Connections open now.
    public var current: Int { count.load(ordering: .relaxed) }
}
