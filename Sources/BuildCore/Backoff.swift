/// Exponential backoff: waits that start at `initial` and double up to `maximum`, for
/// loops that retry an unreachable server (Redis, a hub). ``reset()`` after a success.
public struct Backoff: Sendable, Equatable {
    public let initial: Duration
    public let maximum: Duration
    /// The wait ``next()`` gives next.
    public private(set) var current: Duration

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
        self.current = initial
    }

    /// The wait to use now; the following one doubles, up to `maximum`.
    public mutating func next() -> Duration {
        defer { current = min(current * 2, maximum) }
        return current
    }

    /// Sleeps for ``next()``; returns at once when the task is cancelled.
    public mutating func pause() async {
        try? await Task.sleep(for: next())
    }

    public mutating func reset() { current = initial }
}
