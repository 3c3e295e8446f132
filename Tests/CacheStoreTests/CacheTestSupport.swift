import BuildCore
import CacheStore
import Foundation
import ProxTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shared helpers for the cache and coordinator tests.
enum CacheFixture {
    static let mib = 1 << 20

    /// A distinct, valid build per `n` (it differs in the go version, so in the key).
    static func build(_ n: Int = 0, os: String = "linux", arch: String = "amd64", arm: String? = nil) throws -> ResolvedBuild {
        ResolvedBuild(
            platform: try Platform(os: os, arch: arch, arm: arm),
            caddyVersion: try #require(SemanticVersion("v2.8.4")),
            plugins: [ResolvedModule(path: "github.com/proxfixture/hello", module: "github.com/proxfixture/hello", version: try #require(SemanticVersion("v0.2.0")))],
            settings: BuildSettings(goVersion: "go1.23.\(n)")
        )
    }

    static func open(_ root: String, maxSize: Int64 = 10 * Int64(mib)) async throws -> ArtifactCache {
        try await ArtifactCache(configuration: .init(root: root, maxSize: maxSize))
    }

    /// Writes `bytes` to a new file in the cache's staging directory.
    static func stage(_ bytes: [UInt8], in cache: ArtifactCache) throws -> String {
        let path = cache.stagingDirectory + "/stage-\(UUID().uuidString)"
        try #require(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    /// Stages `size` bytes made from `seed` and commits them as the artifact of `build`.
    @discardableResult
    static func commit(_ build: ResolvedBuild, size: Int, seed: UInt8, to cache: ArtifactCache) async throws -> ArtifactRecord {
        try await cache.commit(key: build.cacheKey, build: build, file: try stage(bytes(size: size, seed: seed), in: cache), expectedDigest: nil)
    }

    /// `size` bytes that differ for each `seed`.
    static func bytes(size: Int, seed: UInt8) -> [UInt8] {
        var out = [UInt8](repeating: seed, count: size)
        out[0] = 0x7F; out[1] = 0x45; out[2] = 0x4C; out[3] = 0x46
        return out
    }

    /// Regular files under `directory`, recursively, relative paths.
    static func files(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var out: [String] = []
        while let name = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(name)
            }
        }
        return out.sorted()
    }

    static func isClean(_ recovery: ArtifactCache.Recovery) -> Bool {
        recovery.rowsDropped == 0 && recovery.orphanFilesRemoved == 0 && recovery.stagingFilesRemoved == 0
    }

    static func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map(Array.init)
    }
}

/// A 64-byte little-endian ELF header for `machine` (62 = x86-64).
func elfHeader(machine: UInt16 = 62) -> [UInt8] {
    var h = [UInt8](repeating: 0, count: 64)
    h[0] = 0x7F; h[1] = 0x45; h[2] = 0x4C; h[3] = 0x46
    h[4] = 2; h[5] = 1; h[6] = 1
    h[18] = UInt8(machine & 0xFF); h[19] = UInt8(machine >> 8)
    return h
}
