import Foundation
import ProxTestSupport
import Testing

/// A data directory on a full file system (issue 11, defect 4): new builds get 507
/// `insufficientStorage` naming the fix and no server path; cached builds are still served.
/// The file system is a 48 MB tmpfs mounted for the test, so it needs root.
@Suite struct FullDiskTests {
    static func run(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskIs507WithoutPathsAndHitsKeepWorking() async throws {
        let mountPoint = Fixture.temporaryDirectory("prox-fulldisk")
        try #require(Self.run(["/bin/mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mountPoint]) == 0, "mount a tmpfs at \(mountPoint)")
        defer { _ = Self.run(["/bin/umount", "-l", mountPoint]) }
        let hub = try await LiveHub.start(dataDirectory: mountPoint + "/data")
        let cached = "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0"
        #expect(try await hub.get(cached).status == 200)

        // Fill the file system to the last block.
        _ = Self.run(["/bin/dd", "if=/dev/zero", "of=\(mountPoint)/filler", "bs=1M"])
        let reply = try await hub.get("/api/download?os=linux&arch=arm64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(reply.status == 507, "\(reply.text)")
        let error = try #require(try reply.json()["error"] as? [String: Any])
        #expect(error["kind"] as? String == "insufficientStorage")
        let message = error["message"] as? String ?? ""
        #expect(message.contains("the server's disk is full") && message.contains("--cache-max-size"), "\(message)")
        #expect(!reply.text.contains(mountPoint) && !reply.text.contains("file://") && !reply.text.contains("NSCocoaErrorDomain"), "\(reply.text)")

        // Hits are still served from the full disk.
        let hit = try await hub.get(cached)
        #expect(hit.status == 200)
        #expect(hit.header("X-Prox-Cache") == "hit")
        await hub.stop()
    }
}
