import Foundation

/// The synthetic Go module proxy the tests build from (see scripts/make-fixture-proxy.py):
/// generated once per test process into a temporary directory.
public enum Fixture {
    public struct Paths: Sendable {
        /// `file://` GOPROXY.
        public let goproxy: String
        /// The proxy's directory.
        public let proxyDirectory: String
        /// `file://` URL of the generated packages.json.
        public let packageEndpoint: String
        public let root: String
    }

    private static let generated: Result<Paths, FixtureError> = {
        let root = NSTemporaryDirectory() + "prox-fixture-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        let script = repositoryRoot + "/scripts/make-fixture-proxy.py"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, root]
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            return .failure(FixtureError(message: "cannot run \(script): \(error)"))
        }
        guard process.terminationStatus == 0 else {
            return .failure(FixtureError(message: "\(script) failed with status \(process.terminationStatus)"))
        }
        return .success(Paths(goproxy: "file://\(root)/proxy", proxyDirectory: "\(root)/proxy", packageEndpoint: "file://\(root)/packages.json", root: root))
    }()

    public static func paths() throws -> Paths { try generated.get() }

    /// The toolchain tests' proxy: the fixture plus Caddy releases that need Go 1.22 and 1.23
    /// (`make-fixture-proxy.py --go-versions`) and Debian's Go 1.23 as the module
    /// `golang.org/toolchain` (`make-toolchain-module.py`), in one directory: the go
    /// command downloads toolchains without the checksum database only from a lone
    /// `file://` GOPROXY.
    public struct ToolchainPaths: Sendable {
        public let goproxy: String
        public let packageEndpoint: String
        /// The older host go (Debian's golang-1.22-go).
        public let oldGo: String
        /// The go command of the toolchain in the proxy (Debian's golang-1.23-go).
        public let newGo: String
        /// `go1.23.5`: the toolchain the proxy serves.
        public let newVersion: String
        public let oldVersion: String
    }

    public static let oldGoRoot = "/usr/lib/go-1.22"
    public static let newGoRoot = "/usr/lib/go-1.23"

    private static let generatedToolchain: Result<ToolchainPaths, FixtureError> = {
        for root in [oldGoRoot, newGoRoot] where !FileManager.default.isExecutableFile(atPath: root + "/bin/go") {
            return .failure(FixtureError(message: "\(root)/bin/go is missing: the toolchain tests need Debian's golang-1.22-go and golang-1.23-go (scripts/setup-debian.sh)"))
        }
        func version(_ root: String) -> String {
            let text = (try? String(contentsOfFile: root + "/VERSION", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").first.map(String.init) ?? ""
        }
        let newVersion = version(newGoRoot), oldVersion = version(oldGoRoot)
        // The toolchain module (190 MB) is made once per machine and version, then linked in.
        let moduleDirectory = NSTemporaryDirectory() + "prox-toolchain-module-\(getuid())-\(newVersion)"
        let marker = moduleDirectory + "/.complete"
        if !FileManager.default.fileExists(atPath: marker) {
            try? FileManager.default.removeItem(atPath: moduleDirectory)
            if let error = run(["python3", repositoryRoot + "/scripts/make-toolchain-module.py", newGoRoot, moduleDirectory]) { return .failure(error) }
            FileManager.default.createFile(atPath: marker, contents: Data())
        }
        let root = NSTemporaryDirectory() + "prox-fixture-go-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        if let error = run(["python3", repositoryRoot + "/scripts/make-fixture-proxy.py", "--go-versions", root]) { return .failure(error) }
        do {
            try FileManager.default.createSymbolicLink(atPath: root + "/proxy/golang.org", withDestinationPath: moduleDirectory + "/golang.org")
        } catch {
            return .failure(FixtureError(message: "cannot link the toolchain module into \(root): \(error)"))
        }
        return .success(
            ToolchainPaths(
                goproxy: "file://\(root)/proxy", packageEndpoint: "file://\(root)/packages.json", oldGo: oldGoRoot + "/bin/go",
                newGo: newGoRoot + "/bin/go", newVersion: newVersion, oldVersion: oldVersion
            )
        )
    }()

    public static func toolchainPaths() throws -> ToolchainPaths { try generatedToolchain.get() }

    private static func run(_ arguments: [String]) -> FixtureError? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            return FixtureError(message: "cannot run \(arguments.joined(separator: " ")): \(error)")
        }
        guard process.terminationStatus == 0 else {
            return FixtureError(message: "\(arguments.joined(separator: " ")) failed with status \(process.terminationStatus)")
        }
        return nil
    }

    /// The go command for tests: `$PROX_TEST_GO`, else Go 1.23 from Debian's backports, else `go` on PATH.
    public static var goExecutable: String {
        if let go = ProcessInfo.processInfo.environment["PROX_TEST_GO"], !go.isEmpty { return go }
        for candidate in ["/usr/lib/go-1.23/bin/go", "/usr/local/go/bin/go"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "go"
    }

    /// The version of ``goExecutable`` (`go env GOVERSION`): builds planned with it run it
    /// with GOTOOLCHAIN=local.
    public static let goVersion: String = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: goExecutable.contains("/") ? goExecutable : "/usr/bin/env")
        process.arguments = (goExecutable.contains("/") ? [] : [goExecutable]) + ["env", "GOVERSION"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "go?" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    /// GOMODCACHE/GOCACHE shared by every test in this process, so builds after the first are warm.
    public static let goCacheRoot: String = {
        let dir = NSTemporaryDirectory() + "prox-test-gocache-\(getuid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// The checkout this test binary was built from.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// The Python for test servers that need PyPI packages (moto, prometheus_client):
    /// `$PROX_PYTHON`, else the project's `.venv` (scripts/setup-debian.sh makes it), else
    /// `python3` on PATH.
    public static let python: String = {
        if let chosen = ProcessInfo.processInfo.environment["PROX_PYTHON"], !chosen.isEmpty { return chosen }
        let venv = repositoryRoot + "/.venv/bin/python3"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }()

    /// A new empty directory, removed by the caller (or left in /tmp for post-mortems).
    public static func temporaryDirectory(_ name: String = "prox-test") -> String {
        let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
    public init(message: String) { self.message = message }
}
