import Foundation

/// The steps of one build, in order (xcaddy's steps, plus Prox's own checks).
public enum BuildStep: String, Sendable, Codable, CaseIterable {
    case queued, resolve, prepare, toolchain, modInit = "mod-init", modEdit = "mod-edit", get, tidy, build, verify, commit, done
}

/// One line of a build's log, tagged with its step. `seq` counts from 1 within a build, so a
/// watcher can resume after the last line it saw.
public struct BuildEvent: Sendable, Codable, Equatable {
    public enum Stream: String, Sendable, Codable {
        /// A line Prox writes itself (a step starting, a command line, a result).
        case info
        case stdout
        case stderr
    }

    public var seq: Int
    public var step: BuildStep
    public var stream: Stream
    public var text: String
    /// Seconds since the build started.
    public var elapsed: Double

    public init(seq: Int = 0, step: BuildStep, stream: Stream, text: String, elapsed: Double = 0) {
        self.seq = seq
        self.step = step
        self.stream = stream
        self.text = text
        self.elapsed = elapsed
    }
}

/// Where a runner sends its events. Implementations must be cheap and never block.
public typealias BuildEventSink = @Sendable (BuildEvent) -> Void
