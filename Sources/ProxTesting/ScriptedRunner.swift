import BuildCore
import Foundation
import Synchronization

/// A ``BuildRunner`` that runs no go command: it prints scripted lines, waits if told to,
/// then writes ``bytes(for:)`` to the output or fails with the scripted error. It keeps
/// the runner's contract (nothing left at `output` on failure; cancellation stops it).
public final class ScriptedRunner: BuildRunner {
    public struct Script: Sendable {
        /// Lines printed on stdout during the `build` step.
        public var lines: [String]
        /// How long the build takes.
        public var duration: Duration
        /// When set, the build fails with it after the lines.
        public var failure: ProxError?

        public init(lines: [String] = ["compiling"], duration: Duration = .zero, failure: ProxError? = nil) {
            self.lines = lines
            self.duration = duration
            self.failure = failure
        }
    }

    public let goVersion: String
    private let state: Mutex<(script: Script, builds: [ResolvedBuild])>

    public init(goVersion: String = "go1.23.5", script: Script = Script()) {
        self.goVersion = goVersion
        self.state = Mutex((script, []))
    }

    /// What the next builds do.
    public var script: Script {
        get { state.withLock { $0.script } }
        set { state.withLock { $0.script = newValue } }
    }

    /// Every build started, in order.
    public var builds: [ResolvedBuild] { state.withLock { $0.builds } }

    /// The bytes a successful build of `build` writes: a marker and the build's canonical
    /// encoding, so different builds have different digests.
    public static func bytes(for build: ResolvedBuild) -> [UInt8] {
        Array("PROX-SCRIPTED-BUILD\n\(build.canonicalEncoding)\n".utf8)
    }

    public func settings() async throws(ProxError) -> BuildSettings { BuildSettings(goVersion: goVersion) }

    public func build(_ build: ResolvedBuild, output: String, events: @escaping BuildEventSink) async throws(ProxError) {
        let script = state.withLock { state in
            state.builds.append(build)
            return state.script
        }
        for line in script.lines { events(BuildEvent(step: .build, stream: .stdout, text: line)) }
        if script.duration > .zero {
            do { try await Task.sleep(for: script.duration) } catch { throw ProxError(.cancelled, "the build was cancelled") }
        }
        if let failure = script.failure {
            events(BuildEvent(step: .build, stream: .stderr, text: failure.message))
            throw failure
        }
        guard FileManager.default.createFile(atPath: output, contents: Data(Self.bytes(for: build))) else {
            throw ProxError(.internal, "cannot write \(output)")
        }
        events(BuildEvent(step: .verify, stream: .info, text: "scripted build written"))
    }
}
