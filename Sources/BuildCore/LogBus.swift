import Foundation

/// Carries each build's log from the worker to every watcher.
///
/// Contract: ``append(_:to:)`` never blocks and numbers events 1, 2, 3... per build; a
/// subscriber gets every event after the one it names (replay), then live events, and its
/// stream ends when the build's log is finished. Logs of old builds may be dropped
/// (``subscribe(to:after:)`` then returns nil).
public protocol LogBus: LogSource {
    /// Starts a build's log. Elapsed times are measured from `start`.
    func open(_ build: BuildID, start: Date)
    func append(_ event: BuildEvent, to build: BuildID)
    func finish(_ build: BuildID)
}
