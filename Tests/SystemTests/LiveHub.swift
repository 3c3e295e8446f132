import AsyncHTTPClient
import BuildCore
import Crypto
import Foundation
import HTTPFront
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import ProxCommands
import ProxTestSupport
import QueueRedis
import ServiceLifecycle

/// A real proxhub (the same wiring `proxhub` runs) on a free loopback port, building from
/// the fixture module proxy with a real Go toolchain.
struct LiveHub: HubClient {
    let hub: ProxhubApp
    let port: Int
    let dataDirectory: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(
        dataDirectory: String? = nil, goExecutable: String? = nil, goCacheRoot: String = Fixture.goCacheRoot,
        _ configure: (inout HubConfiguration) -> Void = { _ in }
    ) async throws -> LiveHub {
        setenv("GOSUMDB", "off", 1)  // the fixture's modules are not in the public checksum database
        let fixture = try Fixture.paths()
        var configuration = HubConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.dataDirectory = dataDirectory ?? Fixture.temporaryDirectory("prox-hub")
        configuration.goproxy = fixture.goproxy
        configuration.packageEndpoint = fixture.packageEndpoint
        configuration.goExecutable = goExecutable ?? Fixture.goExecutable
        // Every test client is 127.0.0.1: the per-client limits are tested on their own.
        configuration.buildLimits = .unlimited
        configuration.clientRequestRate = .unlimited
        configure(&configuration)
        var logger = Logger(label: "test.proxhub")
        logger.logLevel = .warning
        let hub = try await ProxhubApp.make(configuration: configuration, logger: logger, goCacheRoot: goCacheRoot)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let group = hub.serviceGroup(onServerRunning: { continuation.yield($0) })
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw FixtureError(message: "proxhub did not start") }
        // The server is up, but the catalog loads in a service of its own: until it has, every
        // download is refused (503). Tests expect a ready hub; on a busy machine the first
        // request could otherwise win that race. (A catalog that never loads fails later.)
        _ = await eventually(timeout: .seconds(30)) { await hub.catalog.isLoaded }
        return LiveHub(hub: hub, port: port, dataDirectory: configuration.dataDirectory, group: group, task: task)
    }

    /// Stops the hub the way SIGTERM does.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] ?? [:]
        }
        var sha256: String { SHA256.hash(data: body).hexString }
        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    func request(_ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil) async throws -> Reply {
        try await Self.send(url(path), method: method, headers: headers, body: body)
    }

    static func send(_ url: String, method: HTTPMethod, headers: [(String, String)], body: String?) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await testHTTPClient.execute(request, timeout: .seconds(600))
        let bytes = try await response.body.collect(upTo: 256 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> Reply {
        try await request(path, headers: headers)
    }

    /// Builds started by this hub's coordinator (joins and cache hits excluded).
    /// Builds this hub started (hits and joins excluded): a count the two build services
    /// keep for tests.
    var buildsStarted: Int {
        get async {
            if let coordinator = hub.builds as? BuildCoordinator { return await coordinator.startedBuildCount }
            if let redis = hub.builds as? RedisBuildService { return await redis.startedBuildCount }
            preconditionFailure("a build service the tests do not know: \(type(of: hub.builds))")
        }
    }
}

/// The tests' HTTP client: `HTTPClient.shared` gives up on a response after 90 s without a
/// byte (its read timeout), and a download that waits for a cold build while other suites
/// build too on a 2-core machine can be silent longer. No read timeout here: each request
/// has its own deadline instead.
let testHTTPClient = HTTPClient(
    eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(30), read: nil))
)

/// Runs an executable and returns its standard output.
func runProgram(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Writes `bytes` to a new executable file and returns its path.
func writeExecutable(_ bytes: [UInt8]) throws -> String {
    let path = Fixture.temporaryDirectory("prox-bin") + "/caddy"
    try installExecutable(Data(bytes), at: path)
    return path
}

/// A wrapper around the go command that sleeps before `go build`, to make builds slow
/// enough to watch (and kill) them mid-way. Test-only.
func slowGo(seconds: Int) throws -> String {
    let path = Fixture.temporaryDirectory("prox-slowgo") + "/go"
    let script = """
        #!/bin/sh
        if [ "$1" = "build" ]; then sleep \(seconds); fi
        exec "\(Fixture.goExecutable)" "$@"
        """
    try installExecutable(Data(script.utf8), at: path)
    return path
}

/// Writes an executable file without this process ever holding it open for writing: a
/// write descriptor that a child forked at that moment by another test inherits keeps the
/// file "busy" until that child execs, and executing it fails with ETXTBSY ("Text file
/// busy"). The contents are staged under another name, and `install` (a process of its
/// own, finished when this returns) writes the file itself.
func installExecutable(_ contents: Data, at path: String) throws {
    let staged = path + ".staged"
    guard FileManager.default.createFile(atPath: staged, contents: contents) else {
        throw FixtureError(message: "cannot write \(staged)")
    }
    defer { try? FileManager.default.removeItem(atPath: staged) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/install")
    process.arguments = ["-m", "755", staged, path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw FixtureError(message: "install \(staged) \(path) failed with status \(process.terminationStatus)")
    }
}
