import ArgumentParser
import BuildCore
import HTTPFront
import Foundation
import Logging

/// Start-up steps both commands share.
enum CommandStart {
    /// The resolved configuration; a bad value is a usage error (exit 64) naming the setting.
    static func configuration<C>(_ resolve: () throws(ConfigurationError) -> C) throws -> C {
        do throws(ConfigurationError) {
            return try resolve()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Raises the soft limit on open files to the hard limit: each connection and each
    /// build's pipes take descriptors, and Debian's default soft limit (1024) would let a
    /// thousand slow clients starve everyone else.
    static func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let before = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.notice("cannot raise the open-file limit", metadata: ["soft": "\(before)", "hard": "\(limit.rlim_max)"])
        }
    }

    static func logger(_ label: String, level: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }

    /// Runs `make`; a failure is logged and ends the process with status 1.
    static func make<T>(_ logger: Logger, _ make: () async throws -> T) async throws -> T {
        do {
            return try await make()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
    }
}
