import BuildCore
import Foundation
import Logging

/// Keeps the Go build cache (GOCACHE) and module cache (GOMODCACHE, with the downloaded
/// toolchains) of a long-running server under `--go-cache-max-size` each (issue 11).
///
/// After a build, at most once per ``interval``, it measures both. A build cache over the
/// bound loses its least recently used entries (by modification time, which the go
/// command refreshes on use) down to three quarters of it; builds may run meanwhile (an
/// entry the go command finds missing is rebuilt). A module cache over the bound is
/// removed whole (`go clean -modcache`), but only while no build runs: builds that start
/// meanwhile wait for it, as the files of a module in use must not disappear.
public actor GoCacheJanitor {
    public let buildCache: String
    public let moduleCache: String
    public let maxSize: Int64
    public let interval: Duration
    let goExecutable: String
    let logger: Logger

    private var active = 0
    private var maintaining = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var lastCheck: ContinuousClock.Instant?
    private var pendingCheck = false
    public private(set) var trims: [String] = []

    public init(buildCache: String, moduleCache: String, maxSize: Int64, goExecutable: String, interval: Duration = .seconds(600), logger: Logger) {
        self.buildCache = buildCache
        self.moduleCache = moduleCache
        self.maxSize = maxSize
        self.goExecutable = goExecutable
        self.interval = interval
        self.logger = logger
    }

    /// A build starts: waits while the module cache is being removed.
    func enter() async {
        while maintaining { await withCheckedContinuation { waiting.append($0) } }
        active += 1
    }

    /// A build has ended: checks the caches if it is time.
    func leave() async {
        active -= 1
        let due = lastCheck.map { ContinuousClock.now - $0 >= interval } ?? true
        // A module cache found over the bound while builds ran is removed once none runs.
        if due || (pendingCheck && active == 0) { await check() }
    }

    /// Measures both caches and trims what is over the bound.
    public func check() async {
        lastCheck = .now
        let buildCache = self.buildCache, maxSize = self.maxSize
        let trimmed = await Task.detached { Self.trimLeastRecentlyUsed(buildCache, to: maxSize * 3 / 4, ifOver: maxSize) }.value
        if let trimmed {
            trims.append("GOCACHE")
            logger.notice(
                "trimmed the Go build cache (--go-cache-max-size)",
                metadata: ["removedFiles": "\(trimmed.files)", "freed": "\(BuildResources.format(trimmed.bytes))"]
            )
        }
        let moduleCache = self.moduleCache
        let moduleSize = await Task.detached { diskUsage(of: moduleCache) }.value
        pendingCheck = false
        guard moduleSize > maxSize else { return }
        guard active == 0 else {
            pendingCheck = true  // again after a later build, when none runs
            return
        }
        maintaining = true
        defer {
            maintaining = false
            let resumed = waiting
            waiting = []
            resumed.forEach { $0.resume() }
        }
        await removeModuleCache(size: moduleSize)
    }

    private func removeModuleCache(size: Int64) async {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: goExecutable.contains("/") ? goExecutable : "/usr/bin/env")
        process.arguments = (goExecutable.contains("/") ? [] : [goExecutable]) + ["clean", "-modcache"]
        var environment = ProcessInfo.processInfo.environment
        environment["GOMODCACHE"] = moduleCache
        environment["GOTOOLCHAIN"] = "local"
        environment["GOFLAGS"] = ""
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let status: Int32 = await withCheckedContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(returning: -1)
            }
        }
        if status == 0 {
            trims.append("GOMODCACHE")
            logger.notice(
                "removed the Go module cache, over --go-cache-max-size (modules and toolchains are downloaded again when needed)",
                metadata: ["size": "\(BuildResources.format(size))"]
            )
        } else {
            logger.warning("cannot remove the Go module cache (go clean -modcache failed)", metadata: ["status": "\(status)"])
        }
    }

    /// Removes the least recently modified files of `directory` until at most `goal` bytes
    /// are left, when it holds more than `bound`. Nil when nothing was over.
    public static func trimLeastRecentlyUsed(_ directory: String, to goal: Int64, ifOver bound: Int64) -> (files: Int, bytes: Int64)? {
        var files: [(path: String, modified: Int, size: Int64)] = []
        var total: Int64 = 0
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return nil }
        while let name = enumerator.nextObject() as? String {
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            let size = Int64(info.st_blocks) * 512
            total += size
            // The go command's own bookkeeping files stay.
            if name == "README" || name == "trim.txt" || name == "testexpire.txt" { continue }
            files.append((directory + "/" + name, info.st_mtim.tv_sec, size))
        }
        guard total > bound else { return nil }
        files.sort { $0.modified < $1.modified }
        var removed = 0
        var freed: Int64 = 0
        for file in files where total - freed > goal {
            if unlink(file.path) == 0 {
                removed += 1
                freed += file.size
            }
        }
        return (removed, freed)
    }
}
