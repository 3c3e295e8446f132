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
    var goMemoryLimit: Int64? {
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

extension BuildResources {
    /// Why no build cgroup can be made here (nil: one can): what `--build-memory-fence
    /// cgroup` checks at start. Makes and removes a probe cgroup.
    public static func cgroupProblem() -> String? {
        let name = "prox-probe-start-\(getpid())"
        guard let kind = CgroupHost.shared.makeGroup(named: name, limit: 1 << 30) else {
            return CgroupHost.shared.problem ?? "no writable memory cgroup"
        }
        switch kind {
        case .cgroupV2(let directory), .cgroupV1(let directory): rmdir(directory)
        case .rlimit: break
        }
        return nil
    }
}

/// Where one build's memory limit is enforced: a cgroup made for it (cgroup v2 or v1),
/// or an rlimit on each of its go processes. A cgroup is entered by ``enclose(_:)`` with
/// each go process right after it starts, long before it starts compilers (which inherit
/// the cgroup); the rlimit is set by running the go command under util-linux's `prlimit`
/// (``wrap(_:_:)``), so it is in place before the go command starts.
final class MemoryFence: @unchecked Sendable {
    enum Kind: Equatable {
        case cgroupV2(String)
        case cgroupV1(String)
        case rlimit
    }

    let kind: Kind
    let limit: Int64

    private init(kind: Kind, limit: Int64) {
        self.kind = kind
        self.limit = limit
    }

    /// A fence for build `name`, or an error when a cgroup was required and cannot be made.
    static func make(limit: Int64, name: String, fence: BuildResources.Fence) throws(ProxError) -> MemoryFence {
        if fence != .rlimit {
            if let kind = CgroupHost.shared.makeGroup(named: name, limit: limit) { return MemoryFence(kind: kind, limit: limit) }
            if fence == .cgroup {
                throw ProxError(.internal, "cannot make a cgroup for the build's memory limit (--build-memory-fence cgroup): see the server's log")
            }
        }
        return MemoryFence(kind: .rlimit, limit: limit)
    }

    /// Puts a just-started go process inside the cgroup.
    func enclose(_ pid: pid_t) {
        switch kind {
        case .cgroupV2(let directory), .cgroupV1(let directory):
            _ = CgroupHost.write("\(pid)", to: directory + "/cgroup.procs")
        case .rlimit:
            break
        }
    }

    /// The command line that runs `executable` with `arguments` inside the fence.
    func wrap(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        guard kind == .rlimit else { return (executable, arguments) }
        return (Self.prlimit, ["--data=\(limit):\(limit)", "--", executable] + arguments)
    }

    static let prlimit = FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") ? "/usr/bin/prlimit" : "prlimit"

    /// Whether a line of a go process's output says the Go runtime could not allocate.
    static func isOutOfMemory(_ line: String) -> Bool {
        line.contains("runtime: out of memory") || line.contains("runtime: cannot allocate memory")
    }

    /// Whether a failed go command was stopped by the limit: the cgroup's OOM killer ran,
    /// or (rlimit) the Go runtime reported it could not allocate (`outOfMemory`: a line of
    /// its output said so; the crash's stack dump that follows can be long).
    func exceeded(output lines: [String], outOfMemory: Bool) -> Bool {
        switch kind {
        case .cgroupV2(let directory):
            return Self.counter("oom_kill", in: CgroupHost.read(directory + "/memory.events")) > 0
                || Self.counter("max", in: CgroupHost.read(directory + "/memory.events")) > 0 && lines.contains { $0.contains("signal: killed") }
        case .cgroupV1(let directory):
            return Self.counter("oom_kill", in: CgroupHost.read(directory + "/memory.oom_control")) > 0
                || (Int64(CgroupHost.read(directory + "/memory.failcnt").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0
                    && lines.contains { $0.contains("signal: killed") }
        case .rlimit:
            return outOfMemory
        }
    }

    /// Removes the build's cgroup (its processes have all ended).
    func remove() {
        switch kind {
        case .cgroupV2(let directory), .cgroupV1(let directory):
            rmdir(directory)
        case .rlimit:
            break
        }
    }

    var description: String {
        switch kind {
        case .cgroupV2: "a cgroup (v2)"
        case .cgroupV1: "a cgroup (v1)"
        case .rlimit: "RLIMIT_DATA"
        }
    }

    static func counter(_ name: String, in text: String) -> Int64 {
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == name { return Int64(parts[1]) ?? 0 }
        }
        return 0
    }
}

/// The cgroup this process may make build cgroups in, found once from /proc/self/cgroup.
///
/// cgroup v2: the memory controller must be available to this process's cgroup, and a
/// cgroup with processes cannot hand controllers to children; so this process first moves
/// itself into a leaf `<own>/prox-main` and enables `+memory` for `<own>`'s children (what a
/// systemd service with `Delegate=yes` may do). cgroup v1: a child of this process's
/// memory cgroup. Anything that fails leaves the host unchanged where possible, and builds
/// fall back to the rlimit.
final class CgroupHost: @unchecked Sendable {
    static let shared = CgroupHost()

    private let lock = NSLock()
    private var base: Kind?
    private var prepared = false
    private(set) var problem: String?

    private enum Kind {
        case v2(String)
        case v1(String)
    }

    func makeGroup(named name: String, limit: Int64) -> MemoryFence.Kind? {
        lock.lock()
        defer { lock.unlock() }
        if !prepared {
            prepared = true
            base = Self.discover(problem: &problem)
        }
        switch base {
        case .v2(let directory):
            // memory.swap.max: no swapping past the limit either, where swap is accounted.
            return Self.makeGroup(directory + "/" + name, limitFile: "memory.max", swapFile: "memory.swap.max", swapValue: "0", limit: limit)
                .map { .cgroupV2($0) }
        case .v1(let directory):
            return Self.makeGroup(
                directory + "/" + name, limitFile: "memory.limit_in_bytes", swapFile: "memory.memsw.limit_in_bytes", swapValue: String(limit), limit: limit
            ).map { .cgroupV1($0) }
        case nil:
            return nil
        }
    }

    /// Makes cgroup `group` with `limit` in `limitFile` (and, where it exists, `swapValue`
    /// in `swapFile`); nil, and nothing left behind, when it cannot.
    private static func makeGroup(_ group: String, limitFile: String, swapFile: String, swapValue: String, limit: Int64) -> String? {
        guard mkdir(group, 0o755) == 0 || errno == EEXIST else { return nil }
        guard write(String(limit), to: group + "/" + limitFile) else {
            rmdir(group)
            return nil
        }
        _ = write(swapValue, to: group + "/" + swapFile)
        return group
    }

    private static func discover(problem: inout String?) -> Kind? {
        let lines = read("/proc/self/cgroup").split(separator: "\n").map(String.init)
        // cgroup v2 (unified): "0::/path", with the memory controller available.
        if let unified = lines.first(where: { $0.hasPrefix("0::") }).map({ String($0.dropFirst(3)) }),
            read("/sys/fs/cgroup/cgroup.controllers").split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "memory" })
        {
            let own = "/sys/fs/cgroup" + (unified == "/" ? "" : unified)
            if read(own + "/cgroup.subtree_control").contains("memory") || enableMemory(in: own) {
                return .v2(own)
            }
            problem = "cannot enable the memory controller for the children of \(own)"
        }
        // cgroup v1: "N:memory:/path" (possibly with other controllers on the same line).
        if let v1 = lines.first(where: { $0.split(separator: ":", maxSplits: 2).dropFirst().first?.split(separator: ",").contains("memory") == true }) {
            let path = String(v1.split(separator: ":", maxSplits: 2).last ?? "")
            let own = "/sys/fs/cgroup/memory" + (path == "/" ? "" : path)
            let probe = own + "/prox-probe-\(getpid())"
            if mkdir(probe, 0o755) == 0 {
                rmdir(probe)
                return .v1(own)
            }
            problem = "\(own) is not writable (\(String(cString: strerror(errno))))"
        } else if problem == nil {
            problem = "no memory cgroup controller is available to this process"
        }
        return nil
    }

    /// cgroup v2's "no internal processes" rule: move this process into a leaf first.
    private static func enableMemory(in own: String) -> Bool {
        let leaf = own + "/prox-main"
        guard mkdir(leaf, 0o755) == 0 || errno == EEXIST, write(String(getpid()), to: leaf + "/cgroup.procs") else { return false }
        return write("+memory", to: own + "/cgroup.subtree_control")
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    @discardableResult
    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { pointer in Glibc.write(fd, pointer, strlen(pointer)) } >= 0
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
