import BuildCore
import CacheStore
import Foundation
import ProxTestSupport
import Testing

/// The parts of ArtifactCache that keep it fast with many rows: planned eviction over
/// files shared by several keys, hits written in batches, rows kept in memory.
@Suite("ArtifactCache at scale (real SQLite)")
struct ArtifactCacheScaleTests {
    /// Keys 0-2 share file A (oldest), keys 3-4 file B, key 5 file C (newest); each file is
    /// 1 MiB under a quota that needs one file gone for a fourth. Only when the last key of
    /// A goes does space come free: the eviction drops exactly keys 0-2.
    @Test("eviction drops keys in LRU order until a whole file is free, and no more")
    func sharedFiles() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root, maxSize: 3 * Int64(CacheFixture.mib))
        let seeds: [UInt8] = [1, 1, 1, 2, 2, 3]
        var records: [ArtifactRecord] = []
        for (n, seed) in seeds.enumerated() {
            records.append(try await CacheFixture.commit(try CacheFixture.build(n), size: CacheFixture.mib, seed: seed, to: cache))
            try await Task.sleep(for: .milliseconds(15))
        }
        #expect(await cache.totalSize == 3 * Int64(CacheFixture.mib))
        let fourth = try await CacheFixture.commit(try CacheFixture.build(6), size: CacheFixture.mib, seed: 4, to: cache)
        #expect(await cache.evictionCount == 3)
        for gone in records[0...2] { #expect(try await cache.lookup(gone.key) == nil) }
        for kept in records[3...5] + [fourth] { #expect(try await cache.lookup(kept.key) != nil) }
        #expect(!FileManager.default.fileExists(atPath: records[0].path))
        #expect(CacheFixture.files(under: cache.artifactsDirectory).count == 3)
        #expect(await cache.totalSize == 3 * Int64(CacheFixture.mib))
    }

    /// A hit counted just before an eviction moves its key to the back of the LRU order,
    /// although hits are written to the index in batches.
    @Test("a hit not yet written still protects its key from eviction")
    func pendingHitsCount() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root, maxSize: 3 * Int64(CacheFixture.mib))
        var records: [ArtifactRecord] = []
        for n in 0..<3 {
            records.append(try await CacheFixture.commit(try CacheFixture.build(n), size: CacheFixture.mib, seed: UInt8(n + 1), to: cache))
            try await Task.sleep(for: .milliseconds(15))
        }
        #expect(try await cache.lookup(records[0].key) != nil)  // pending, not yet in the index
        _ = try await CacheFixture.commit(try CacheFixture.build(3), size: CacheFixture.mib, seed: 4, to: cache)
        #expect(try await cache.lookup(records[0].key) != nil)
        #expect(try await cache.lookup(records[1].key) == nil)
    }

    @Test("hits reach the index by themselves, a write interval (1 s) after the first")
    func hitsAreWritten() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let record = try await CacheFixture.commit(try CacheFixture.build(), size: 1000, seed: 1, to: cache)
        for expected in 1...3 { #expect(try await cache.lookup(record.key)?.hits == expected) }
        // Another reader of the index sees them without `cache` being asked for anything
        // (polled: on a loaded machine the timer may fire late).
        let written = await eventually(timeout: .seconds(30), interval: .milliseconds(200)) {
            let reader = try? await CacheFixture.open(root)
            return (try? await reader?.entries().first?.hits) == 3
        }
        #expect(written)
        _ = cache  // kept alive while polling: its timer writes the hits
    }

    @Test("a row kept in memory is dropped with its file and follows its pin")
    func rowsInMemoryStayExact() async throws {
        let root = Fixture.temporaryDirectory("prox-cache")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = try await CacheFixture.open(root)
        let record = try await CacheFixture.commit(try CacheFixture.build(), size: 1000, seed: 1, to: cache)
        #expect(try await cache.lookup(record.key)?.pinned == false)
        try await cache.setPinned(record.key, true)
        #expect(try await cache.lookup(record.key)?.pinned == true)
        chmod((record.path as NSString).deletingLastPathComponent, 0o755)
        unlink(record.path)
        #expect(try await cache.lookup(record.key) == nil, "a file gone behind the cache's back is a miss, even for a row in memory")
        #expect(try await cache.entries().isEmpty)
    }
}
