import BuildCore
import Crypto
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
    /// encoding, so different builds have different digests, then Go build information as
    /// the linker writes it (at a 16-byte aligned offset), so provenance can be read from
    /// them as from a real binary. Its modules are Caddy and the plugins' modules, with
    /// made-up `h1:` sums (``sum(_:_:)``).
    public static func bytes(for build: ResolvedBuild) -> [UInt8] {
        var bytes = Array("PROX-SCRIPTED-BUILD\n\(build.canonicalEncoding)\n".utf8)
        bytes += [UInt8](repeating: 0, count: (16 - bytes.count % 16) % 16)
        var modinfo = "path\tcaddy\nmod\tcaddy\t(devel)\t\n"
        var modules = [BuildRequest.caddyModulePath: build.caddyVersion.description]
        for plugin in build.plugins { modules[plugin.module] = plugin.version.description }
        for (path, version) in modules.sorted(by: { $0.key < $1.key }) {
            modinfo += "dep\t\(path)\t\(version)\t\(sum(path, version))\n"
        }
        modinfo += "build\t-trimpath=\(build.settings.trimpath)\nbuild\tCGO_ENABLED=0\n"
        modinfo += "build\tGOARCH=\(build.platform.arch)\nbuild\tGOOS=\(build.platform.os)\n"
        bytes += GoBuildInfo.magic + [8, 0x2] + [UInt8](repeating: 0, count: 16)
        let sentinel = [UInt8](repeating: 0x5a, count: 16)
        for field in [Array(build.settings.goVersion.utf8), sentinel + Array(modinfo.utf8) + sentinel] {
            var length = field.count
            while length >= 0x80 {
                bytes.append(UInt8(length & 0x7f) | 0x80)
                length >>= 7
            }
            bytes += [UInt8(length)] + field
        }
        return bytes
    }

    /// The made-up `h1:` sum of a module version in scripted binaries.
    public static func sum(_ path: String, _ version: String) -> String {
        "h1:" + Data(SHA256.hash(data: Array("\(path)@\(version)".utf8))).base64EncodedString()
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
