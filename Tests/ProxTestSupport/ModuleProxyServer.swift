import Foundation
import Glibc

/// The fixture's Go module proxy served over HTTP on 127.0.0.1 by scripts/module-proxy.py,
/// optionally with slow `.zip` downloads.
///
/// It is listening when `init` returns; `stop()` it when the test is done (deinit stops it
/// too, and removes its log directory).
public final class ModuleProxyServer: @unchecked Sendable {
    public let port: Int
    /// The directory served (`Fixture.paths().proxyDirectory` unless given).
    public let directory: String
    /// The server's request log (its standard error).
    public let logPath: String

    private let lock = NSLock()
    private var process: Process?  // guarded by lock
    private let output: FileHandle
    private let logDirectory: String

    /// A GOPROXY value for it: `http://127.0.0.1:<port>`.
    public var goproxy: String { "http://\(Loopback.host):\(port)" }

    /// Starts the proxy on a free port. `delayZip` maps a substring of the request path
    /// (as the go command sends it: case-escaped, e.g. `github.com/proxfixture/hello/@v/v0.1.0`)
    /// to how long to wait before serving a matching `.zip`.
    public init(directory: String? = nil, delayZip: [String: Duration] = [:]) throws {
        self.directory = try directory ?? Fixture.paths().proxyDirectory
        self.logDirectory = Fixture.temporaryDirectory("prox-module-proxy")
        self.logPath = logDirectory + "/proxy.log"
        let script = Fixture.repositoryRoot + "/scripts/module-proxy.py"
        let (launched, output, line) = try PythonServer.launch(
            python: "python3", script: script,
            arguments: [self.directory, "--port", "0"]
                + delayZip.sorted { $0.key < $1.key }.flatMap { ["--delay-zip", "\($0.key)=\(Self.seconds($0.value))"] },
            logPath: logPath, timeout: .seconds(20))
        self.output = output
        guard line.hasPrefix("listening on 127.0.0.1:"), let port = Int(line.split(separator: ":").last ?? "") else {
            launched.terminate(grace: .zero)
            throw FixtureError(message: "\(script) printed \(line.debugDescription), not its address")
        }
        self.port = port
        self.process = launched
    }

    deinit {
        stop()
        try? output.close()
        try? FileManager.default.removeItem(atPath: logDirectory)
    }

    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// SIGTERM (SIGKILL after 5 s); returns once the server has exited.
    public func stop() {
        lock.withLock {
            guard let process else { return }
            self.process = nil
            process.terminate(grace: .seconds(5))
        }
    }

    /// What the server logged (one line per request).
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Reads up to the first newline, waiting at most `timeout` in all.
    static func firstLine(of fd: Int32, timeout: Duration) throws -> String {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw FixtureError(message: "no address printed within \(timeout)") }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&descriptor, 1, max(milliseconds, 1))
            if ready < 0, errno == EINTR { continue }
            guard ready >= 0 else { throw FixtureError(message: "poll: \(String(cString: strerror(errno)))") }
            if ready == 0 { continue }
            var byte: UInt8 = 0
            let n = read(fd, &byte, 1)
            if n < 0, errno == EINTR { continue }
            guard n == 1 else { throw FixtureError(message: "it exited before printing its address") }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
