import BuildCore
import Foundation
import FileIO
import ProxTestSupport
import Testing

@Suite("FileDigest")
struct FileDigestTests {
    @Test("SHA-256 and size of small and multi-chunk files")
    func digests() async throws {
        let dir = Fixture.temporaryDirectory("prox-digest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/abc", contents: Data("abc".utf8))
        let abc = try await FileDigest.sha256(ofFileAt: dir + "/abc")
        #expect(abc.digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(abc.size == 3)

        _ = FileManager.default.createFile(atPath: dir + "/empty", contents: Data())
        let empty = try await FileDigest.sha256(ofFileAt: dir + "/empty", sync: true)
        #expect(empty.digest == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(empty.size == 0)

        // Larger than the 1 MiB read chunk; expected value from Python's hashlib:
        // hashlib.sha256(bytes(i % 251 for i in range((3 << 20) + 5))).hexdigest()
        let count = (3 << 20) + 5
        _ = FileManager.default.createFile(atPath: dir + "/big", contents: Data((0..<count).map { UInt8($0 % 251) }))
        let big = try await FileDigest.sha256(ofFileAt: dir + "/big", sync: true)
        #expect(big.digest == "b01669d77761c4dfdfc8fb927821087bcf5c9ef1f917c4f1f8504e529f19edab")
        #expect(big.size == Int64(count))
    }

    @Test("a missing file is an internal error")
    func missing() async {
        let error = await #expect(throws: ProxError.self) { try await FileDigest.sha256(ofFileAt: "/nonexistent/prox/file") }
        #expect(error?.kind == .internal)
    }
}
