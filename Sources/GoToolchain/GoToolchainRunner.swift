import BuildCore
import Foundation
import Logging
import Subprocess
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs xcaddy's build steps with the go command, one process at a time, arguments as
/// argv (never through a shell):
///
/// 1. a fresh temporary directory with `main.go` importing `time/tzdata`, Caddy's `cmd`,
///    its standard modules and each plugin;
/// 2. `go mod init caddy`, then `go mod edit -replace` for each replacement;
/// 3. `go get -v <caddy>@<version>`, then `go get -v <plugin>@<version> <caddy>@<version>`
///    for each plugin (keeps Caddy pinned);
/// 4. `go mod tidy -e`;
/// 5. `go build -o <out> -trimpath -ldflags "-w -s" -tags nobadger,nomysql,nopgx` with
///    GOOS, GOARCH, GOARM and CGO_ENABLED=0;
/// 6. the file is checked: non-empty, the executable format and machine of the target.
///
/// GOMODCACHE and GOCACHE are shared between builds so later builds are warm. Each go
/// command runs in its own process group; on timeout or cancellation the whole group is
/// killed. The temporary directory is always removed.
///
/// Toolchains: each build runs with the Go version in its ``BuildSettings/goVersion``
/// (chosen by ``ToolchainRule`` before the cache key). A local go command of that version
/// runs with `GOTOOLCHAIN=local`; otherwise, when downloads are allowed, a local go (1.21 or
/// newer) runs with `GOTOOLCHAIN=<version>`, which makes it fetch `golang.org/toolchain`
/// through GOPROXY into the shared GOMODCACHE (always verified against the checksum
/// database: the go command's only exception is a GOPROXY of one file:// URL) and
/// switch to it. The download is a step of its own (``BuildStep/toolchain``), made once per
/// version: builds that need it meanwhile wait for the same download.
public struct GoToolchainRunner: BuildRunner {
    public struct Configuration: Sendable {
        /// The default go command: `go` (looked up on PATH) or a path to the go binary.
        public var goExecutable: String
        /// More local go commands (`--go` given several times); each builds the builds
        /// whose chosen version is its own.
        public var additionalGoExecutables: [String]
        /// Let the go command download toolchains through GOPROXY (`--toolchain-download`).
        public var toolchainDownload: Bool
        /// The GOPROXY list handed to the go command.
        public var goproxy: String
        /// Shared module cache (GOMODCACHE).
        public var moduleCache: String
        /// Shared build cache (GOCACHE).
        public var buildCache: String
        /// Where per-build temporary directories are made.
        public var workDirectory: String
        /// Time limit for one whole build.
        public var timeout: Duration
        /// Extra environment for the go command (GOSUMDB, GOPRIVATE, GONOSUMDB, GOINSECURE, ...).
        public var environment: [String: String]
        /// Keep the temporary directory of a failed build (debugging; never in production).
        public var keepFailedWorkDirectories: Bool
        /// Memory, CPUs and disk of each build.
        public var resources: BuildResources
        /// The bound of GOCACHE and of GOMODCACHE, each (`--go-cache-max-size`); nil: none.
        public var goCacheMaxSize: Int64?
        /// How often at most the Go caches are measured (after a build).
        public var goCacheCheckInterval: Duration = .seconds(600)

        public init(
            goExecutable: String = "go", additionalGoExecutables: [String] = [], toolchainDownload: Bool = true,
            goproxy: String, moduleCache: String, buildCache: String, workDirectory: String,
            timeout: Duration = .seconds(600), environment: [String: String] = [:], keepFailedWorkDirectories: Bool = false,
            resources: BuildResources = .init(), goCacheMaxSize: Int64? = nil, goCacheCheckInterval: Duration = .seconds(600)
        ) {
            self.goCacheCheckInterval = goCacheCheckInterval
            self.resources = resources
            self.goCacheMaxSize = goCacheMaxSize
            self.goExecutable = goExecutable
            self.additionalGoExecutables = additionalGoExecutables
            self.toolchainDownload = toolchainDownload
            self.goproxy = goproxy
            self.moduleCache = moduleCache
            self.buildCache = buildCache
            self.workDirectory = workDirectory
            self.timeout = timeout
            self.environment = environment
            self.keepFailedWorkDirectories = keepFailedWorkDirectories
        }

        /// Variables passed through from the server's environment when set.
        public static let passthroughVariables = [
            "GOSUMDB", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOAUTH", "GOVCS",
            "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
        ]
    }

    public let configuration: Configuration
    public let tags = ["nobadger", "nomysql", "nopgx"]
    public let ldflags = "-w -s"

    /// Shared by every copy of this runner: local versions, downloads in flight.
    private let toolchains = ToolchainState()
    /// Keeps the Go caches under `goCacheMaxSize`.
    public let janitor: GoCacheJanitor?

    public init(configuration: Configuration, logger: Logger = Logger(label: "prox.go")) {
        self.configuration = configuration
        janitor = configuration.goCacheMaxSize.map {
            GoCacheJanitor(
                buildCache: configuration.buildCache, moduleCache: configuration.moduleCache, maxSize: $0,
                goExecutable: configuration.goExecutable, interval: configuration.goCacheCheckInterval, logger: logger
            )
        }
    }

    /// A local go command and the version it reports.
    public struct LocalToolchain: Sendable, Equatable {
        public let version: GoVersion
        public let executable: String
    }

    /// The default toolchain's version and the flags every build uses.
    public func settings() async throws(ProxError) -> BuildSettings {
        let locals = try await localToolchains()
        return BuildSettings(goVersion: locals[0].version.toolchainName, tags: tags, ldflags: ldflags, trimpath: true)
    }

    /// Every local go command with its version (`go env GOVERSION`), the default first;
    /// asked once. A command that is not a go command is a clear `.internal` error naming it.
    public func localToolchains() async throws(ProxError) -> [LocalToolchain] {
        if let known = await toolchains.locals { return known }
        var found: [LocalToolchain] = []
        for executable in [configuration.goExecutable] + configuration.additionalGoExecutables {
            let output = try await runCollecting(["env", "GOVERSION"], executable: executable)
            let printed = output.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let version = GoVersion(printed), version.isRelease, printed.hasPrefix("go") else {
                throw ProxError(.internal, "\(executable) is not a usable go command: `\(executable) env GOVERSION` printed \(Platform.quoted(printed)), not a Go release (--go)")
            }
            if !found.contains(where: { $0.version == version }) { found.append(LocalToolchain(version: version, executable: executable)) }
        }
        await toolchains.setLocals(found)
        return found
    }

    /// Toolchains already downloaded into GOMODCACHE for this host.
    public func downloadedToolchains() -> [GoVersion] {
        // $GOMODCACHE/golang.org/toolchain@v0.0.1-go1.23.5.linux-amd64
        let module = ToolchainModule.path as NSString
        let directory = configuration.moduleCache + "/" + module.deletingLastPathComponent
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let prefix = module.lastPathComponent + "@"
        let versions = entries.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        return ToolchainModule.releases(inList: versions).filter {
            FileManager.default.isExecutableFile(atPath: directory + "/" + prefix + ToolchainModule.moduleVersion($0) + "/bin/go")
        }.sorted()
    }

    public func build(_ build: ResolvedBuild, output: String, events: @escaping BuildEventSink) async throws(ProxError) {
        let janitor = self.janitor
        await janitor?.enter()
        defer { Task { await janitor?.leave() } }
        let deadline = ContinuousClock.now.advanced(by: configuration.timeout)
        let directory = try makeWorkDirectory()
        var succeeded = false
        defer {
            if succeeded || !configuration.keepFailedWorkDirectories {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }
        events(BuildEvent(step: .prepare, stream: .info, text: "writing main.go in a fresh module"))
        do {
            try Self.mainGo(for: build).write(toFile: directory + "/main.go", atomically: false, encoding: .utf8)
            // The go command's temporary files ($WORK) stay inside the build directory: they
            // count towards --build-disk and go with it.
            try FileManager.default.createDirectory(atPath: directory + "/.tmp", withIntermediateDirectories: false)
        } catch {
            throw ProxError.fileSystem(error, while: "writing the build's main.go")
        }
        let resources = configuration.resources
        var fence: MemoryFence?
        if let memory = resources.memory {
            fence = try MemoryFence.make(limit: memory, name: "prox-" + (directory as NSString).lastPathComponent, fence: resources.fence)
        }
        defer { fence?.remove() }
        let limits = [
            resources.memory.map { "memory \(BuildResources.format($0)) (\(fence?.description ?? ""))" },
            resources.cpus.map { "\($0) CPU\($0 == 1 ? "" : "s")" }, resources.disk.map { "disk \(BuildResources.format($0))" },
        ].compactMap { $0 }
        if !limits.isEmpty { events(BuildEvent(step: .prepare, stream: .info, text: "limits: " + limits.joined(separator: ", "))) }
        let go = try await goCommand(for: build, deadline: deadline, events: events)
        let caddy = "\(BuildRequest.caddyModulePath)@\(build.caddyVersion)"
        var steps: [(BuildStep, [String], [String: String])] = [(.modInit, ["mod", "init", "caddy"], [:])]
        for plugin in build.plugins {
            if let r = plugin.replacement {
                steps.append((.modEdit, ["mod", "edit", "-replace", "\(plugin.module)=\(r.path)@\(r.version)"], [:]))
            }
        }
        steps.append((.get, ["get", "-v", caddy], [:]))
        for plugin in build.plugins {
            steps.append((.get, ["get", "-v", "\(plugin.path)@\(plugin.version)", caddy], [:]))
        }
        steps.append((.tidy, ["mod", "tidy", "-e"], [:]))
        let localOutput = "caddy" + build.platform.executableSuffix
        var buildArgs = ["build", "-o", localOutput]
        if let cpus = resources.cpus { buildArgs += ["-p", String(cpus)] }
        if build.settings.trimpath { buildArgs.append("-trimpath") }
        // No version control stamp: a build directory inside someone's git checkout (a data
        // directory under a clone) would otherwise put that repository's revision and state
        // into the binary, and the same cache key would give other bytes on another host.
        if let version = GoVersion(build.settings.goVersion), let first = GoVersion("go1.18"), version >= first {
            buildArgs.append("-buildvcs=false")
        }
        buildArgs += ["-ldflags", build.settings.ldflags, "-tags", build.settings.tags.joined(separator: ",")]
        steps.append((.build, buildArgs, build.platform.goEnvironment))

        let scrub = PathScrubber(workDirectory: directory, configuration: configuration)
        var limitEnvironment = ["GOTMPDIR": directory + "/.tmp"]
        if let cpus = resources.cpus { limitEnvironment["GOMAXPROCS"] = String(cpus) }
        if let goMemoryLimit = resources.goMemoryLimit { limitEnvironment["GOMEMLIMIT"] = String(goMemoryLimit) }
        for (step, arguments, extra) in steps {
            try await run(
                step: step, go: go, arguments: arguments, extraEnvironment: extra.merging(limitEnvironment) { a, _ in a }, in: directory,
                deadline: deadline, scrub: scrub, fence: fence, events: events
            )
        }
        events(BuildEvent(step: .verify, stream: .info, text: "checking the executable for \(build.platform)"))
        try Self.verifyExecutable(at: directory + "/" + localOutput, for: build.platform)
        guard rename(directory + "/" + localOutput, output) == 0 else {
            throw ProxError.posix(errno, while: "moving the executable out of the build directory")
        }
        succeeded = true
    }

    /// The go command that builds with `build.settings.goVersion`: a local one of that
    /// version, else a local go switching to it (downloaded first, once per version).
    private func goCommand(for build: ResolvedBuild, deadline: ContinuousClock.Instant, events: @escaping BuildEventSink) async throws(ProxError) -> GoCommand {
        let name = build.settings.goVersion
        let locals = try await localToolchains()
        if let reason = build.toolchain?.reason {
            events(BuildEvent(step: .toolchain, stream: .info, text: "toolchain \(name): \(reason)"))
        }
        if let local = locals.first(where: { $0.version.toolchainName == name }) {
            events(BuildEvent(step: .toolchain, stream: .info, text: "using the local \(name)"))
            return GoCommand(executable: local.executable, toolchain: "local")
        }
        guard let version = GoVersion(name), version.isRelease else {
            throw ProxError(.toolchainUnavailable, "\(Platform.quoted(name)) is not a Go release this runner can use")
        }
        guard configuration.toolchainDownload else {
            throw ProxError(
                .toolchainUnavailable,
                "\(name) is not a local toolchain here (local: \(locals.map(\.version.toolchainName).joined(separator: ", "))) and downloads are off (--toolchain-download=false): give its go command with --go, or allow downloads"
            )
        }
        guard let switcher = locals.first(where: { $0.version >= .release(21, 0) }) else {
            throw ProxError(
                .toolchainUnavailable,
                "downloading \(name) needs a local go 1.21 or newer to fetch it, and the local toolchains are \(locals.map(\.version.toolchainName).joined(separator: ", ")) (--go)"
            )
        }
        let go = GoCommand(executable: switcher.executable, toolchain: name)
        let module = "\(ToolchainModule.path)@\(ToolchainModule.moduleVersion(version))"
        if downloadedToolchains().contains(version) {
            events(BuildEvent(step: .toolchain, stream: .info, text: "using \(name) from the module cache (\(module), downloaded earlier)"))
            return go
        }
        let started = Date()
        let leader = await toolchains.download(name) {
            Task {
                events(BuildEvent(step: .toolchain, stream: .info, text: "downloading \(name) (\(module)) through \(GoProxyFormat.displayed(configuration.goproxy))"))
                try await self.run(
                    step: .toolchain, go: go, arguments: ["version"], extraEnvironment: [:], in: configuration.workDirectory,
                    deadline: deadline, scrub: PathScrubber(workDirectory: configuration.workDirectory, configuration: configuration), fence: nil,
                    events: events
                )
            }
        }
        if !leader.started {
            events(BuildEvent(step: .toolchain, stream: .info, text: "waiting for the download of \(name) that another build started"))
        }
        do {
            try await leader.task.value
        } catch let error as ProxError {
            if error.kind == .cancelled || error.kind == .buildTimedOut { throw error }
            throw ProxError(
                .toolchainUnavailable,
                "cannot download \(name) (\(module)) through GOPROXY \(GoProxyFormat.displayed(configuration.goproxy)): \(error.message)\n"
                    + "Serve golang.org/toolchain from the proxy (--goproxy), give a local \(version.language.toolchainName) with --go, or turn downloads off (--toolchain-download=false) to build only with local toolchains"
            )
        } catch {
            throw ProxError(.cancelled, "the build was cancelled while \(name) downloaded")
        }
        events(BuildEvent(step: .toolchain, stream: .info, text: "\(name) is ready (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)"))
        return go
    }

    /// The `main.go` xcaddy writes: Caddy's command, its standard modules, tzdata, plugins.
    public static func mainGo(for build: ResolvedBuild) -> String {
        var imports = [
            "\tcaddycmd \(goString("\(BuildRequest.caddyModulePath)/cmd"))",
            "",
            "\t// plugged-in modules",
            "\t_ \(goString("\(BuildRequest.caddyModulePath)/modules/standard"))",
            "\t_ \"time/tzdata\"",
        ]
        imports += build.plugins.map { "\t_ \(goString($0.path))" }
        return """
            // Code generated by Prox for \(build.platform). DO NOT EDIT.
            package main

            import (
            \(imports.joined(separator: "\n"))
            )

            func main() {
            \tcaddycmd.Main()
            }

            """
    }

    static func goString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// Checks the produced file: it exists, is not empty, and has the target's format.
    public static func verifyExecutable(at path: String, for platform: Platform) throws(ProxError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ProxError(.invalidArtifact, "the go command reported success but wrote no executable")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 4096)).map { Array($0) } ?? []
        if let problem = ExecutableFormat.check(header: header, for: platform) {
            throw ProxError(.invalidArtifact, "the produced file is not a valid \(platform) executable: \(problem)")
        }
    }

    // MARK: - Processes

    private func executable(_ name: String) -> Executable {
        name.contains("/") ? .path(FilePath(name)) : .name(name)
    }

    func environment(extra: [String: String]) -> Environment {
        let current = ProcessInfo.processInfo.environment
        var env: [String: String] = [
            "PATH": current["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": current["HOME"] ?? configuration.workDirectory,
            "GOPATH": (configuration.moduleCache as NSString).deletingLastPathComponent + "/gopath",
            "GOPROXY": configuration.goproxy,
            "GOMODCACHE": configuration.moduleCache,
            "GOCACHE": configuration.buildCache,
            "GOFLAGS": "-mod=mod",
            "GOTOOLCHAIN": "local",
            "GOENV": "off",
            "GOTELEMETRY": "off",
            "CGO_ENABLED": "0",
            "LANG": "C.UTF-8",
        ]
        for name in Configuration.passthroughVariables {
            if let value = current[name] { env[name] = value }
        }
        env.merge(configuration.environment) { _, new in new }
        env.merge(extra) { _, new in new }
        var keys: [Environment.Key: String] = [:]
        for (k, v) in env { keys[Environment.Key(stringLiteral: k)] = v }
        return .custom(keys)
    }

    private func makeWorkDirectory() throws(ProxError) -> String {
        do {
            try FileManager.default.createDirectory(atPath: configuration.workDirectory, withIntermediateDirectories: true)
        } catch {
            throw ProxError.fileSystem(error, while: "creating the build's work directory")
        }
        var template = Array((configuration.workDirectory + "/build-XXXXXX").utf8CString)
        guard let result = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ProxError.posix(errno, while: "creating a temporary build directory")
        }
        return String(cString: result)
    }

    private func run(
        step: BuildStep, go: GoCommand, arguments: [String], extraEnvironment: [String: String], in directory: String,
        deadline: ContinuousClock.Instant, scrub: PathScrubber, fence: MemoryFence?, events: @escaping BuildEventSink
    ) async throws(ProxError) {
        let display = (["go"] + arguments.map { $0.contains(" ") ? "\"\($0)\"" : $0 }).joined(separator: " ")
        events(BuildEvent(step: step, stream: .info, text: "$ \(display)"))
        let tail = LineTail(limit: 30)
        let status: TerminationStatus
        var extra = extraEnvironment
        extra["GOTOOLCHAIN"] = go.toolchain
        let environment = extra
        // A build's own directory is watched; a toolchain download runs in the shared one.
        let diskLimit = directory == configuration.workDirectory ? nil : configuration.resources.disk
        let disk = DiskWatch(limit: diskLimit, directory: directory)
        let outOfMemory = Flag()
        let diskFull = Flag()
        do {
            status = try await withDeadline(deadline) {
                let (executable, fencedArguments) = fence?.wrap(go.executable, arguments) ?? (go.executable, arguments)
                return try await self.spawn(
                    executable: executable, arguments: fencedArguments, environment: self.environment(extra: environment), in: directory,
                    started: { pid in
                        fence?.enclose(pid)
                        // Builds yield the CPU to the server: requests and cache hits stay fast while
                        // compilers run. Their children inherit the niceness.
                        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), BuildResources.niceness)
                    }, watch: disk.watch
                ) { stream, line in
                    let clean = scrub(line)
                    if stream == .stderr {
                        tail.append(clean)
                        if MemoryFence.isOutOfMemory(clean) { outOfMemory.set() }
                        if clean.contains("no space left on device") || clean.contains("disk quota exceeded") { diskFull.set() }
                    }
                    events(BuildEvent(step: step, stream: stream, text: clean))
                }
            }
        } catch let error as ProxError {
            throw error
        } catch is CancellationError {
            throw ProxError(.cancelled, "the build was cancelled during \(step.rawValue)")
        } catch {
            throw ProxError(.internal, "cannot run \(go.executable): \(error)")
        }
        if status.isSuccess, let limit = diskLimit, diskUsage(of: directory) > limit {
            // What the command left behind counts too (the binary, once linked).
            throw ProxError(.buildFailed, "the build wrote more than \(BuildResources.format(limit)) to its work directory (--build-disk) and was stopped after \(display)")
        }
        guard status.isSuccess else {
            let lines = tail.lines.filter { !$0.hasPrefix("go: downloading ") && !$0.hasPrefix("go: finding ") }
            if let limit = disk.exceeded {
                throw ProxError(
                    .buildFailed,
                    "the build wrote more than \(BuildResources.format(limit)) to its work directory (--build-disk) and was stopped during \(display)"
                )
            }
            if diskFull.isSet { throw ProxError.diskFull(while: "building: \(display)") }
            if let fence, fence.exceeded(output: lines, outOfMemory: outOfMemory.isSet) {
                let message = "the build used more than \(BuildResources.format(fence.limit)) of memory (--build-memory) and was stopped during \(display)"
                events(BuildEvent(step: step, stream: .info, text: message))
                throw ProxError(.buildFailed, message)
            }
            if let newer = Self.newerGoNeeded(in: lines) {
                throw ProxError(
                    .toolchainUnavailable,
                    "\(newer.module) requires go >= \(newer.version), newer than \(newer.running), the toolchain chosen from the go.mod files of Caddy and the plugins: "
                        + "ask for an older version of \(newer.module.split(separator: "@").first.map(String.init) ?? newer.module), or a Caddy version whose go.mod needs go \(newer.version)"
                )
            }
            let detail = lines.suffix(15).joined(separator: "\n")
            throw ProxError(
                .buildFailed,
                "\(display) failed (\(status))" + (detail.isEmpty ? "" : ":\n\(detail)")
            )
        }
    }

    private func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = configuration.timeout
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                let (seconds, attoseconds) = limit.components
                let shown = attoseconds == 0 ? "\(seconds) s" : "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
                throw ProxError(.buildTimedOut, "the build exceeded its time limit of \(shown) (--build-timeout)")
            }
            return value
        }
    }

    /// A dependency's go.mod asks for a newer Go than the build runs with: the go command
    /// says `go: <module>@<version> requires go >= 1.24.0 (running go 1.23.5; GOTOOLCHAIN=local)`.
    static func newerGoNeeded(in lines: [String]) -> (module: String, version: String, running: String)? {
        for line in lines {
            guard let requires = line.range(of: " requires go >= "), let running = line.range(of: " (running go ") else { continue }
            let before = line[..<requires.lowerBound]
            let module = before.split(separator: " ").last.map(String.init) ?? "a dependency"
            let version = line[requires.upperBound..<running.lowerBound]
            let runningVersion = line[running.upperBound...].prefix { $0 != ";" && $0 != ")" }
            return (module, String(version), "go" + runningVersion)
        }
        return nil
    }

    /// Runs go with `arguments` in its own process group, handing every output line to `line`.
    /// `started` gets the process id as soon as it runs; `watch`, run beside the process
    /// until it ends, may kill its group.
    private func spawn(
        executable name: String, arguments: [String], environment: Environment, in directory: String,
        started: @escaping @Sendable (pid_t) -> Void = { _ in }, watch: (@Sendable (pid_t) async -> Void)? = nil,
        line: @escaping @Sendable (BuildEvent.Stream, String) -> Void
    ) async throws -> TerminationStatus {
        var options = PlatformOptions()
        options.processGroupID = 0
        let result = try await Subprocess.run(
            executable(name), arguments: Arguments(arguments), environment: environment,
            workingDirectory: FilePath(directory), platformOptions: options,
            input: .none, output: .sequence, error: .sequence
        ) { execution in
            let pid = execution.processIdentifier.value
            started(pid)
            let watcher = watch.map { watch in Task { await watch(pid) } }
            defer { watcher?.cancel() }
            try await withTaskCancellationHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await text in execution.standardOutput.strings() { line(.stdout, text) }
                    }
                    group.addTask {
                        for try await text in execution.standardError.strings() { line(.stderr, text) }
                    }
                    try await group.waitForAll()
                }
            } onCancel: {
                _ = kill(-pid, SIGKILL)
            }
        }
        try Task.checkCancellation()
        return result.terminationStatus
    }

    private func runCollecting(_ arguments: [String], executable: String) async throws(ProxError) -> String {
        let collected = LineTail(limit: 1000)
        let status: TerminationStatus
        do {
            status = try await spawn(
                executable: executable, arguments: arguments, environment: environment(extra: ["GOTOOLCHAIN": "local"]),
                in: FileManager.default.currentDirectoryPath
            ) { stream, text in
                if stream == .stdout { collected.append(text) }
            }
        } catch {
            throw ProxError(.internal, "cannot run \(executable): \(error); install Go or point --go at it")
        }
        guard status.isSuccess else {
            throw ProxError(.internal, "\(executable) \(arguments.joined(separator: " ")) failed (\(status)): is it a go command? (--go)")
        }
        return collected.lines.joined(separator: "\n")
    }
}

/// A go command and the `GOTOOLCHAIN` it runs with (`local`, or the version to switch to).
struct GoCommand: Sendable {
    let executable: String
    let toolchain: String
}

/// A flag set from any thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// The last `limit` lines of a stream, shared between concurrent readers.
final class LineTail: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer: [String] = []
    let limit: Int
    init(limit: Int) { self.limit = limit }
    func append(_ line: String) {
        lock.lock()
        buffer.append(line)
        if buffer.count > limit { buffer.removeFirst(buffer.count - limit) }
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return buffer
    }
}
