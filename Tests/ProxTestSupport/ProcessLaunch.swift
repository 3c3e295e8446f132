import Foundation
import Glibc

extension Process {
    /// `run()`, with no signal blocked in the child.
    ///
    /// A child inherits the signal mask of the thread that spawns it, and Foundation's
    /// `Process` does not reset it: launched from a Swift concurrency or Dispatch thread
    /// (which block SIGTERM, SIGINT, SIGHUP, ...), the child would ignore `terminate()`.
    /// The mask is cleared on this thread for the duration of the call and then restored.
    public func runWithDefaultSignalMask() throws {
        var none = sigset_t()
        var saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try run()
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace` (at once when `grace` is
    /// zero); returns once it has exited.
    public func terminate(grace: Duration) {
        if isRunning {
            if grace > .zero {
                terminate()
                let deadline = ContinuousClock.now + grace
                while isRunning, ContinuousClock.now < deadline { usleep(10_000) }
            }
            if isRunning { Glibc.kill(processIdentifier, SIGKILL) }
        }
        waitUntilExit()
    }
}

/// A test server written in Python (scripts/module-proxy.py, scripts/s3-test-server.py):
/// started with its standard error in `logPath`, running once it has printed its first
/// line on standard output (its address), which is returned.
public enum PythonServer {
    public static func launch(
        python: String, script: String, arguments: [String], logPath: String, timeout: Duration, hint: String = ""
    ) throws -> (process: Process, output: FileHandle, firstLine: String) {
        guard FileManager.default.createFile(atPath: logPath, contents: nil), let log = FileHandle(forWritingAtPath: logPath) else {
            throw FixtureError(message: "cannot create \(logPath)")
        }
        defer { try? log.close() }
        let stdout = Pipe()
        let launched = Process()
        launched.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        launched.arguments = [python, "-u", script] + arguments
        launched.standardInput = FileHandle.nullDevice
        launched.standardOutput = stdout
        launched.standardError = log
        let output = stdout.fileHandleForReading
        do {
            try launched.runWithDefaultSignalMask()
        } catch {
            throw FixtureError(message: "cannot start \(python) \(script): \(error)")
        }
        try? stdout.fileHandleForWriting.close()
        do {
            return (launched, output, try ModuleProxyServer.firstLine(of: output.fileDescriptor, timeout: timeout))
        } catch {
            launched.terminate(grace: .zero)
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw FixtureError(message: "\(script) did not start\(hint): \(error)\n\(log)")
        }
    }
}
