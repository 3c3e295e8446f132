import Foundation
import GoToolchain
import Testing

@Suite("the Go cache janitor") struct GoCacheJanitorTests {
    @Test("the build cache loses its least recently used files down to the goal, and only when over the bound")
    func leastRecentlyUsed() throws {
        let directory = NSTemporaryDirectory() + "prox-janitor-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/ab", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let block = Data(repeating: 7, count: 64 * 1024)
        for i in 0..<10 {
            let path = directory + "/ab/entry-\(i)"
            try block.write(to: URL(fileURLWithPath: path))
            var times = [timespec(tv_sec: 1_000_000 + i * 100, tv_nsec: 0), timespec(tv_sec: 1_000_000 + i * 100, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, path, &times, 0)
        }
        try Data("keep".utf8).write(to: URL(fileURLWithPath: directory + "/trim.txt"))
        let total = diskUsageForTests(directory)
        #expect(GoCacheJanitor.trimLeastRecentlyUsed(directory, to: total / 2, ifOver: total) == nil, "not over the bound")
        let trimmed = try #require(GoCacheJanitor.trimLeastRecentlyUsed(directory, to: total / 2, ifOver: total / 2))
        #expect(trimmed.files >= 5)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory + "/ab").sorted()
        #expect(left.allSatisfy { Int($0.dropFirst("entry-".count))! >= trimmed.files }, "the oldest went first: \(left)")
        #expect(FileManager.default.fileExists(atPath: directory + "/trim.txt"))
    }

    func diskUsageForTests(_ path: String) -> Int64 {
        var total: Int64 = 0
        for name in FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [] {
            var info = stat()
            if lstat(path + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG { total += Int64(info.st_blocks) * 512 }
        }
        return total
    }
}
