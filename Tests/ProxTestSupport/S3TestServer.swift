import Foundation
import Glibc

/// An S3 protocol server on 127.0.0.1 (moto's, by scripts/s3-test-server.py) with request
/// authentication on: an IAM user's key and a bucket made for the test. Requests signed
/// with any other key, or wrongly, are refused.
///
/// It is listening, with its bucket, when `init` returns; `stop()` it when the test is done
/// (deinit stops it too). Needs moto (`moto[server]` from PyPI, which
/// scripts/setup-debian.sh puts in the project's `.venv`).
public final class S3TestServer: @unchecked Sendable {
    public let endpoint: String
    public let region: String
    public let bucket: String
    public let accessKeyID: String
    public let secretAccessKey: String
    /// With `role:`, the ARN of a role allowed s3:* that this server's key may assume.
    public let roleARN: String?
    public let logPath: String

    private let lock = NSLock()
    private var process: Process?  // guarded by lock
    private let output: FileHandle
    private let logDirectory: String

    /// `authentication: false` accepts unsigned requests: moto's access control cannot
    /// check presigned URLs, so tests that follow one need a server without it. `role`
    /// also makes a role allowed s3:* that the key may assume (`sts:AssumeRole`).
    public init(bucket: String = "prox", region: String = "us-east-1", authentication: Bool = true, role: String? = nil) throws {
        logDirectory = Fixture.temporaryDirectory("prox-s3")
        logPath = logDirectory + "/s3.log"
        let script = Fixture.repositoryRoot + "/scripts/s3-test-server.py"
        let (launched, output, line) = try PythonServer.launch(
            python: Fixture.python, script: script,
            arguments: ["--port", "0", "--bucket", bucket, "--region", region] + (authentication ? [] : ["--no-auth"]) + (role.map { ["--role", $0] } ?? []),
            logPath: logPath, timeout: .seconds(60), hint: " (is moto[server] installed? scripts/setup-debian.sh installs it)")
        self.output = output
        struct Started: Decodable {
            let endpoint: String
            let region: String
            let bucket: String
            let access_key_id: String
            let secret_access_key: String
            let role_arn: String?
        }
        guard let started = try? JSONDecoder().decode(Started.self, from: Data(line.utf8)), started.endpoint.hasPrefix("http://127.0.0.1:") else {
            launched.terminate(grace: .zero)
            throw FixtureError(message: "\(script) printed \(line.debugDescription), not its endpoint and key")
        }
        endpoint = started.endpoint
        self.region = started.region
        self.bucket = started.bucket
        accessKeyID = started.access_key_id
        secretAccessKey = started.secret_access_key
        roleARN = started.role_arn
        process = launched
    }

    deinit {
        stop()
        try? output.close()
        try? FileManager.default.removeItem(atPath: logDirectory)
    }

    /// The environment a hub needs to use this server's key.
    public var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey]
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

    /// The server's request log.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}
