import Foundation

/// What one build may use (issue 11): memory, CPUs, disk. Every go command of a build runs
/// inside these limits; a build over one is stopped and fails with a message naming it.
public struct BuildResources: Sendable, Equatable {
    /// How the memory limit is enforced.
    public enum Fence: String, Sendable, Equatable, CaseIterable {
        /// A cgroup of the build's own when this process may make one (v2, else v1), else
        /// an rlimit.
        case automatic
        /// A cgroup, or no start (proxhub and proxagent check at start).
        case cgroup
        /// `RLIMIT_DATA` on each go process (its children inherit it). It counts address
        /// space a Go process reserves, not only what it uses: give it room (a plain build
        /// needs about 400 MiB of it).
        case rlimit
    }

    /// Memory of the build's processes together (cgroup) or of each (rlimit); nil: none.
    public var memory: Int64?
    /// Packages compiled at once (`go build -p`) and `GOMAXPROCS` of every go process; nil: all CPUs.
    public var cpus: Int?
    /// Bytes the build's work directory may hold (sources, temporary files, the binary); nil: none.
    public var disk: Int64?
    public var fence: Fence

    public init(memory: Int64? = nil, cpus: Int? = nil, disk: Int64? = nil, fence: Fence = .automatic) {
        self.memory = memory
        self.cpus = cpus
        self.disk = disk
        self.fence = fence
    }

    /// The niceness every go process of a build runs at (the server's own is 0).
    public static let niceness: Int32 = 10

    /// `GOMEMLIMIT` for each go process: the limit shared by the processes that may run at
    /// once, with room for what the garbage collector does not count.
    public var goMemoryLimit: Int64? {
        memory.map { $0 * 3 / 4 / Int64(max(1, cpus ?? 1)) }
    }

    /// `2 GiB`, `512 MiB`, `1500000 bytes`.
    public static func format(_ bytes: Int64) -> String {
        for (unit, size) in [("GiB", Int64(1) << 30), ("MiB", Int64(1) << 20), ("KiB", Int64(1) << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size) \(unit)"
        }
        if bytes >= 1 << 30 { return String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
        if bytes >= 1 << 20 { return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) }
        return "\(bytes) bytes"
    }
}
