import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProxTestSupport
import Testing

/// The `proxhub` executable itself: flags, start-up errors, and SIGTERM.
@Suite struct ProcessTests {
    static var binary: String {
        get throws {
            for config in ["debug", "release"] {
                let path = Fixture.repositoryRoot + "/.build/\(config)/proxhub"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            throw FixtureError(message: "build proxhub first (swift build --build-tests)")
        }
    }

    final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ data: Data) { lock.withLock { text += String(decoding: data, as: UTF8.self) } }
        var value: String { lock.withLock { text } }
    }

    static func launch(_ arguments: [String], environment: [String: String] = [:]) throws -> (Process, Output) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pipe = Pipe()
        let output = Output()
        pipe.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        return (process, output)
    }

    @Test func badFlagValuesFailAtStartUpNamingTheFlag() async throws {
        let cases: [([String], [String: String], String)] = [
            (["--webserver-port", "eighty"], [:], "--webserver-port"),
            (["--cache-max-size", "lots"], [:], "--cache-max-size"),
            (["--build-timeout", "soon"], [:], "--build-timeout"),
            ([], ["PB_SIMULTANEOUS_JOBS": "0"], "PB_SIMULTANEOUS_JOBS"),
            (["--goproxy", "direct"], [:], "--goproxy"),
            (["--package-endpoint", "ftp://x"], [:], "--package-endpoint"),
        ]
        for (arguments, environment, expected) in cases {
            let (process, output) = try Self.launch(arguments, environment: environment)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0, "\(arguments) \(environment)")
            // The readability handler may still be delivering what the process wrote.
            #expect(await eventually(timeout: .seconds(10)) { output.value.contains(expected) }, "\(arguments): \(output.value)")
        }
    }

    @Test func sigtermCancelsRunningBuildsRemovesTheirFilesAndExitsZero() async throws {
        let fixture = try Fixture.paths()
        let data = Fixture.temporaryDirectory("prox-proc")
        let (process, output) = try Self.launch(
            [
                "--webserver-host", "127.0.0.1", "--webserver-port", "0", "--binary-path", data, "--go", try slowGo(seconds: 60),
                "--goproxy", fixture.goproxy, "--package-endpoint", fixture.packageEndpoint,
            ],
            environment: ["GOSUMDB": "off", "PB_WEBSERVER_PORT": ""]
        )
        defer { if process.isRunning { process.terminate() } }
        var port: Int?
        #expect(try await eventually(timeout: .seconds(60)) {
            if let range = output.value.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                port = Int(output.value[range].split(separator: ":").last ?? "")
            }
            return port != nil
        }, "\(output.value)")
        let base = "http://127.0.0.1:\(try #require(port))"
        var request = HTTPClientRequest(url: base + "/api/builds")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"os":"linux","arch":"amd64","p":["github.com/proxfixture/hello"]}"#))
        let body = try await HTTPClient.shared.execute(request, timeout: .seconds(30)).body.collect(upTo: 1 << 20)
        let id = try #require(((try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["result"] as? [String: Any])?["id"] as? String)
        let builds = data + "/tmp/builds"
        #expect(try await eventually(timeout: .seconds(60)) {
            let status = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/api/builds/\(id)"), timeout: .seconds(30)).body.collect(upTo: 1 << 20)
            return String(buffer: status).contains("\"state\":\"running\"")
                && ((try? FileManager.default.contentsOfDirectory(atPath: builds))?.isEmpty == false)
        })

        let start = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        #expect(try await eventually(timeout: .seconds(30)) { !process.isRunning }, "\(output.value)")
        #expect(ContinuousClock.now - start < .seconds(30), "the 60 s go build was cancelled, not waited for")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0, "\(output.value)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: builds)) ?? [] == [], "temporary build directories removed")
    }
}
