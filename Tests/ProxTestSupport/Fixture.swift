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

    /// The go command for tests: `$PROX_TEST_GO`, else Go 1.23 from Debian's backports, else `go` on PATH.
    public static var goExecutable: String {
        if let go = ProcessInfo.processInfo.environment["PROX_TEST_GO"], !go.isEmpty { return go }
        for candidate in ["/usr/lib/go-1.23/bin/go", "/usr/local/go/bin/go"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "go"
    }

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
