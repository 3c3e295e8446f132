import BuildCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

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
