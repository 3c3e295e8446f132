import Foundation

/// A count per period: `30/h`, `600/m`; zero means no limit.
public struct Rate: Sendable, Equatable, CustomStringConvertible {
    public var count: Int
    public var period: Duration

    public init(_ count: Int, per period: Duration) {
        self.count = count
        self.period = period
    }

    public static let unlimited = Rate(0, per: .seconds(1))
    public var isLimited: Bool { count > 0 }

    public var description: String {
        guard isLimited else { return "unlimited" }
        let seconds = period.components.seconds
        let unit = seconds == 3600 ? "h" : seconds == 60 ? "m" : seconds == 1 ? "s" : "/\(seconds)s"
        return "\(count)/\(unit)"
    }
}
