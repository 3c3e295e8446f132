import Foundation

/// Whether an artifact was built again, from scratch, to the same bytes: the hub's check
/// that its builds are reproducible (`--verify-rebuilds`).
public struct Reproduction: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// A rebuild is queued or running.
        case pending
        /// The rebuild gave the same SHA-256.
        case reproduced
        /// The rebuild gave other bytes: the build is not reproducible.
        case differs
        /// The rebuild did not finish (its error is in `detail`): nothing is known.
        case failed
    }

    public var state: State
    /// The rebuild's SHA-256 (when it finished).
    public var rebuildDigest: String?
    public var checkedAt: Date?
    public var detail: String?

    public init(state: State, rebuildDigest: String? = nil, checkedAt: Date? = nil, detail: String? = nil) {
        self.state = state
        self.rebuildDigest = rebuildDigest
        self.checkedAt = checkedAt
        self.detail = detail
    }

    /// `true`, `false` or `pending` (and `failed`), as the API's header shows it.
    public var headerValue: String {
        switch state {
        case .pending: "pending"
        case .reproduced: "true"
        case .differs: "false"
        case .failed: "failed"
        }
    }
}
