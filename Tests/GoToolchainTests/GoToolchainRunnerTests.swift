import BuildCore
import Foundation
import GoToolchain
import ProxTestSupport
import Testing

/// Collects a runner's events from any thread.
final class EventRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [BuildEvent] = []
    private var waiters: [(predicate: @Sendable (BuildEvent) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []

    var sink: BuildEventSink { { [self] event in record(event) } }

    var events: [BuildEvent] { lock.withLock { storage } }

    private func record(_ event: BuildEvent) {
        let ready = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            storage.append(event)
            var ready: [CheckedContinuation<Void, Never>] = []
            waiters.removeAll { waiter in
                guard waiter.predicate(event) else { return false }
                ready.append(waiter.continuation)
                return true
            }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// Returns once an event matching `predicate` has been recorded.
    func wait(for predicate: @escaping @Sendable (BuildEvent) -> Bool) async {
        await withCheckedContinuation { continuation in
            let done = lock.withLock { () -> Bool in
                if storage.contains(where: predicate) { return true }
                waiters.append((predicate, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// Runs a program and returns its exit status and standard output.
func runProgram(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

enum GoFixture {
    static func configuration(workDirectory: String, timeout: Duration = .seconds(600)) throws -> GoToolchainRunner.Configuration {
        GoToolchainRunner.Configuration(
            goExecutable: Fixture.goExecutable, goproxy: try Fixture.paths().goproxy,
            moduleCache: Fixture.goCacheRoot + "/mod", buildCache: Fixture.goCacheRoot + "/cache",
            workDirectory: workDirectory, timeout: timeout,
            environment: ["GOSUMDB": "off"]
        )
    }

    static func v(_ text: String) throws -> SemanticVersion { try #require(SemanticVersion(text)) }

    static func build(
        os: String = "linux", arch: String = "amd64", arm: String? = nil, caddy: String = "v2.8.4",
        plugins: [ResolvedModule], goVersion: String? = nil
    ) throws -> ResolvedBuild {
        ResolvedBuild(
            platform: try Platform(os: os, arch: arch, arm: arm), caddyVersion: try v(caddy), plugins: plugins,
            settings: BuildSettings(goVersion: goVersion ?? Fixture.goVersion)
        )
    }

    static func module(_ path: String, _ version: String, module: String? = nil, replacement: ModuleSpec.Replacement? = nil) throws -> ResolvedModule {
        ResolvedModule(path: path, module: module ?? path, version: try v(version), replacement: replacement)
    }

    /// A work directory for the runner and a directory for its output.
    static func directories() -> (work: String, output: String) {
        (Fixture.temporaryDirectory("prox-runner"), Fixture.temporaryDirectory("prox-runner-out"))
    }

    static func remove(_ directories: String...) {
        for directory in directories { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// Entries of `directory` named build-* (the runner's temporary directories).
    static func leftovers(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("build-") }
    }
}

@Suite("GoToolchainRunner (real go, fixture proxy)", .serialized, .timeLimit(.minutes(10)))
struct GoToolchainRunnerTests {
    @Test("settings() reports the toolchain's GOVERSION and the fixed flags")
    func settings() async throws {
        let work = Fixture.temporaryDirectory("prox-runner")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let runner = GoToolchainRunner(configuration: try GoFixture.configuration(workDirectory: work))
        let settings = try await runner.settings()
        #expect(settings.goVersion.hasPrefix("go1."))
        let independent = try runProgram(Fixture.goExecutable, ["env", "GOVERSION"])
        #expect(independent.status == 0)
        #expect(settings.goVersion == independent.output.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(settings.tags == ["nobadger", "nomysql", "nopgx"])
        #expect(settings.ldflags == "-w -s")
        #expect(settings.trimpath)
    }

    @Test("settings() with a missing go binary is an internal error that says what to do")
    func missingGo() async throws {
        var configuration = try GoFixture.configuration(workDirectory: NSTemporaryDirectory())
        configuration.goExecutable = "/nonexistent/prox/go"
        let error = await #expect(throws: ProxError.self) { try await GoToolchainRunner(configuration: configuration).settings() }
        #expect(error?.kind == .internal)
        #expect(error?.message.contains("install Go or point --go at it") == true)
    }

    @Test("mainGo imports Caddy's cmd, the standard modules, tzdata and each plugin")
    func mainGo() throws {
        let build = try GoFixture.build(plugins: [
            try GoFixture.module("github.com/proxfixture/multi/handlers", "v1.0.0", module: "github.com/proxfixture/multi"),
            try GoFixture.module("github.com/proxfixture/hello", "v0.2.0"),
        ])
        let source = GoToolchainRunner.mainGo(for: build)
        #expect(source.contains("package main\n"))
        #expect(source.contains("\tcaddycmd \"github.com/caddyserver/caddy/v2/cmd\"\n"))
        #expect(source.contains("\t_ \"github.com/caddyserver/caddy/v2/modules/standard\"\n"))
        #expect(source.contains("\t_ \"time/tzdata\"\n"))
        #expect(source.contains("\t_ \"github.com/proxfixture/hello\"\n"))
        #expect(source.contains("\t_ \"github.com/proxfixture/multi/handlers\"\n"))
        // The package path is imported, not the module path.
        #expect(!source.contains("\"github.com/proxfixture/multi\"\n"))
        #expect(source.contains("caddycmd.Main()"))
        #expect(source.contains("linux/amd64"))
    }

    @Test("verifyExecutable rejects a missing, empty or wrong-format file")
    func verifyExecutable() throws {
        let dir = Fixture.temporaryDirectory("prox-verify")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let linux = try Platform(os: "linux", arch: "amd64")
        let missing = #expect(throws: ProxError.self) { try GoToolchainRunner.verifyExecutable(at: dir + "/nope", for: linux) }
        #expect(missing?.kind == .invalidArtifact)
        _ = FileManager.default.createFile(atPath: dir + "/empty", contents: Data())
        let empty = #expect(throws: ProxError.self) { try GoToolchainRunner.verifyExecutable(at: dir + "/empty", for: linux) }
        #expect(empty?.kind == .invalidArtifact)
        _ = FileManager.default.createFile(atPath: dir + "/script", contents: Data("#!/bin/sh\n".utf8))
        #expect(throws: ProxError.self) { try GoToolchainRunner.verifyExecutable(at: dir + "/script", for: linux) }
        _ = FileManager.default.createFile(atPath: dir + "/arm", contents: Data(ExecutableHeaders.elf(machine: 40, is64: false)))
        let wrongArch = #expect(throws: ProxError.self) { try GoToolchainRunner.verifyExecutable(at: dir + "/arm", for: linux) }
        #expect(wrongArch?.kind == .invalidArtifact)
        #expect(wrongArch?.message.contains("linux/amd64") == true)
        _ = FileManager.default.createFile(atPath: dir + "/amd64", contents: Data(ExecutableHeaders.elf(machine: 62)))
        try GoToolchainRunner.verifyExecutable(at: dir + "/amd64", for: linux)
    }

    @Test("a linux/amd64 build with hello runs, lists the plugin and reports the Caddy version")
    func buildHello() async throws {
        let (work, outDir) = GoFixture.directories()
        defer { GoFixture.remove(work, outDir) }
        let configuration = try GoFixture.configuration(workDirectory: work)
        let runner = GoToolchainRunner(configuration: configuration)
        let build = try GoFixture.build(plugins: [try GoFixture.module("github.com/proxfixture/hello", "v0.2.0")], goVersion: try await runner.settings().goVersion)
        let output = outDir + "/caddy"
        let recorder = EventRecorder()
        try await runner.build(build, output: output, events: recorder.sink)

        #expect(FileManager.default.isExecutableFile(atPath: output))
        let modules = try runProgram(output, ["list-modules"])
        #expect(modules.status == 0)
        let ids = modules.output.split(separator: "\n").map(String.init)
        #expect(ids.contains("http.handlers.hello"))
        #expect(ids.contains("http.handlers.hello_v2feature"))  // only in hello v0.2.0
        #expect(ids.contains("http.handlers.file_server"))  // the standard modules
        let version = try runProgram(output, ["version"])
        #expect(version.status == 0)
        #expect(version.output.split(whereSeparator: \.isWhitespace).first == "v2.8.4", "version printed \(version.output)")
        let deps = try runProgram(output, ["build-info"])
        #expect(deps.output.contains("github.com/proxfixture/hello v0.2.0"))
        #expect(deps.output.contains("github.com/caddyserver/caddy/v2 v2.8.4"))

        // Events: every step tagged, in order, with the toolchain's own lines.
        let events = recorder.events
        var firstSeen: [BuildStep] = []
        for event in events where !firstSeen.contains(event.step) { firstSeen.append(event.step) }
        #expect(firstSeen == [.prepare, .toolchain, .modInit, .get, .tidy, .build, .verify])
        #expect(events.contains { $0.step == .toolchain && $0.text == "using the local \(Fixture.goVersion)" })
        for step in [BuildStep.modInit, .get, .tidy, .build] {
            #expect(events.contains { $0.step == step && $0.stream == .info && $0.text.hasPrefix("$ go ") }, "no command line for \(step)")
        }
        #expect(events.contains { $0.step == .get && $0.stream != .info && $0.text.contains("github.com/proxfixture/hello") })
        #expect(events.contains { $0.text == "$ go get -v github.com/proxfixture/hello@v0.2.0 github.com/caddyserver/caddy/v2@v2.8.4" })
        #expect(events.contains { $0.step == .build && $0.text.contains("-trimpath") && $0.text.contains("nobadger,nomysql,nopgx") })
        // No server path leaks into the log.
        for event in events {
            #expect(!event.text.contains(work), "work directory in \(event.text)")
            #expect(!event.text.contains(Fixture.goCacheRoot), "go cache in \(event.text)")
        }
        // The temporary directory is gone.
        #expect(GoFixture.leftovers(in: work).isEmpty)
    }

    @Test("a linux/arm/v6 build is an ARM ELF built with GOARM=6")
    func buildArm6() async throws {
        let (work, outDir) = GoFixture.directories()
        defer { GoFixture.remove(work, outDir) }
        let runner = GoToolchainRunner(configuration: try GoFixture.configuration(workDirectory: work))
        let build = try GoFixture.build(arch: "arm", arm: "6", plugins: [
            try GoFixture.module("github.com/proxfixture/multi/handlers", "v1.0.0", module: "github.com/proxfixture/multi"),
        ])
        let output = outDir + "/caddy"
        try await runner.build(build, output: output, events: { _ in })
        let header = Array(try #require(FileManager.default.contents(atPath: output)).prefix(20))
        #expect(header.starts(with: [0x7F, 0x45, 0x4C, 0x46]))
        #expect(header[4] == 1)  // 32-bit
        #expect(Int(header[18]) | Int(header[19]) << 8 == 40)  // EM_ARM
        let info = try runProgram(Fixture.goExecutable, ["version", "-m", output])
        #expect(info.output.contains("GOARM=6"), "\(info.output)")
        #expect(info.output.contains("github.com/proxfixture/multi"))
        #expect(info.output.contains("CGO_ENABLED=0"))
        #expect(info.output.contains("-trimpath=true"))
        #expect(GoFixture.leftovers(in: work).isEmpty)
    }

    @Test("a module replacement is applied with go mod edit -replace")
    func replacement() async throws {
        let (work, outDir) = GoFixture.directories()
        defer { GoFixture.remove(work, outDir) }
        let runner = GoToolchainRunner(configuration: try GoFixture.configuration(workDirectory: work))
        // hello v0.1.0 replaced by hello v0.2.0: the v0.2.0-only module must be present.
        let spec = try ModuleSpec(parsing: "github.com/proxfixture/hello@v0.1.0=github.com/proxfixture/hello@v0.2.0")
        let replacement = try #require(spec.replacement)
        let build = try GoFixture.build(plugins: [try GoFixture.module("github.com/proxfixture/hello", "v0.1.0", replacement: replacement)])
        let output = outDir + "/caddy"
        let recorder = EventRecorder()
        try await runner.build(build, output: output, events: recorder.sink)
        #expect(recorder.events.contains { $0.step == .modEdit && $0.text == "$ go mod edit -replace github.com/proxfixture/hello=github.com/proxfixture/hello@v0.2.0" })
        let ids = try runProgram(output, ["list-modules"]).output.split(separator: "\n")
        #expect(ids.contains("http.handlers.hello_v2feature"))
    }

    @Test("a plugin that does not compile is buildFailed with the compiler's message and no server paths")
    func brokenPlugin() async throws {
        let (work, outDir) = GoFixture.directories()
        defer { GoFixture.remove(work, outDir) }
        let runner = GoToolchainRunner(configuration: try GoFixture.configuration(workDirectory: work))
        let build = try GoFixture.build(plugins: [try GoFixture.module("github.com/proxfixture/broken", "v0.1.0")])
        let output = outDir + "/caddy"
        let recorder = EventRecorder()
        let error = await #expect(throws: ProxError.self) { try await runner.build(build, output: output, events: recorder.sink) }
        #expect(error?.kind == .buildFailed)
        let message = error?.message ?? ""
        #expect(message.contains("cannot use"), "\(message)")
        #expect(message.contains("broken.go"), "\(message)")
        // Module paths are shown relative to the module cache placeholder, not the server's layout.
        #expect(message.contains("$GOMODCACHE/github.com/proxfixture/broken@v0.1.0/broken.go"), "\(message)")
        #expect(!message.contains("prox-test-gocache"), "\(message)")
        #expect(!message.contains("/tmp/"), "server path in \(message)")
        #expect(!message.contains(work))
        #expect(!message.contains(Fixture.goCacheRoot))
        #expect(recorder.events.contains { $0.step == .build && $0.stream == .stderr && $0.text.contains("cannot use") })
        for event in recorder.events {
            #expect(!event.text.contains("/tmp/"), "server path in event \(event.text)")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(GoFixture.leftovers(in: work).isEmpty)
    }

    @Test("a plugin that does not exist fails in go get, not later")
    func missingPlugin() async throws {
        let work = Fixture.temporaryDirectory("prox-runner")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let runner = GoToolchainRunner(configuration: try GoFixture.configuration(workDirectory: work))
        let build = try GoFixture.build(plugins: [try GoFixture.module("github.com/proxfixture/hello", "v0.9.9")])
        let recorder = EventRecorder()
        let error = await #expect(throws: ProxError.self) { try await runner.build(build, output: work + "/out", events: recorder.sink) }
        #expect(error?.kind == .buildFailed)
        #expect(error?.message.contains("go get") == true)
        #expect(!recorder.events.contains { $0.step == .build })
        #expect(GoFixture.leftovers(in: work).isEmpty)
    }

    @Test("a build over its time limit is buildTimedOut and leaves no directory behind")
    func timeout() async throws {
        let work = Fixture.temporaryDirectory("prox-runner")
        defer { try? FileManager.default.removeItem(atPath: work) }
        // A cold build cache of its own: the go build step alone takes far longer than the limit.
        var configuration = try GoFixture.configuration(workDirectory: work + "/work", timeout: .milliseconds(300))
        configuration.buildCache = work + "/gocache"
        let runner = GoToolchainRunner(configuration: configuration)
        let build = try GoFixture.build(plugins: [try GoFixture.module("github.com/proxfixture/withdep", "v0.1.0")])
        let started = ContinuousClock.now
        let error = await #expect(throws: ProxError.self) { try await runner.build(build, output: work + "/out", events: { _ in }) }
        #expect(error?.kind == .buildTimedOut)
        #expect(error?.message.contains("time limit") == true)
        #expect(ContinuousClock.now - started < .seconds(20), "the timeout was not enforced promptly")
        #expect(FileManager.default.fileExists(atPath: work + "/work"))
        #expect(GoFixture.leftovers(in: work + "/work").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: work + "/out"))
    }

    @Test("cancelling the task stops the build as cancelled and leaves no directory behind")
    func cancellation() async throws {
        let work = Fixture.temporaryDirectory("prox-runner")
        defer { try? FileManager.default.removeItem(atPath: work) }
        // A cold build cache of its own, so the go build step is slow enough to be interrupted.
        var configuration = try GoFixture.configuration(workDirectory: work + "/work")
        configuration.buildCache = work + "/gocache"
        let runner = GoToolchainRunner(configuration: configuration)
        let build = try GoFixture.build(plugins: [try GoFixture.module("github.com/proxfixture/withdep", "v0.1.0")])
        let recorder = EventRecorder()
        let task = Task {
            try await runner.build(build, output: work + "/out", events: recorder.sink)
        }
        await recorder.wait { $0.step == .build && $0.stream == .info }
        try await Task.sleep(for: .milliseconds(200))
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - cancelledAt < .seconds(10), "cancellation was not prompt")
        guard case .failure(let failure) = result else {
            Issue.record("the build finished although it was cancelled")
            return
        }
        let error = try #require(failure as? ProxError)
        #expect(error.kind == .cancelled, "\(error)")
        #expect(FileManager.default.fileExists(atPath: work + "/work"))
        #expect(GoFixture.leftovers(in: work + "/work").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: work + "/out"))
    }
}
