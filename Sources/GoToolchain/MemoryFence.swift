import BuildCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

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
