import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Checks a build directory's size every half second while a go command runs; over the
/// limit, kills the command's process group and remembers why.
final class DiskWatch: @unchecked Sendable {
    let limit: Int64?
    let directory: String
    private let lock = NSLock()
    private var tripped = false

    init(limit: Int64?, directory: String) {
        self.limit = limit
        self.directory = directory
    }

    /// The limit, when the watch stopped the command.
    var exceeded: Int64? { lock.withLock { tripped ? limit : nil } }

    var watch: (@Sendable (pid_t) async -> Void)? {
        guard let limit else { return nil }
        return { [self] pid in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if Task.isCancelled { return }
                if diskUsage(of: directory) > limit {
                    lock.withLock { tripped = true }
                    _ = kill(-pid, SIGKILL)
                    return
                }
            }
        }
    }
}

/// Bytes a directory tree holds on disk (allocated blocks), for `--build-disk`.
func diskUsage(of path: String) -> Int64 {
    var total: Int64 = 0
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
    while let name = enumerator.nextObject() as? String {
        var info = stat()
        if lstat(path + "/" + name, &info) == 0 { total += Int64(info.st_blocks) * 512 }
    }
    return total
}
