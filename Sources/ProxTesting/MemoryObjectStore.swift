import BuildCore
import Crypto
import Foundation

/// An ``ObjectStore`` in memory, for fast tests of what sits on the seam (the bucket-backed
/// artifact store, download redirects). `S3ObjectStore` is tested against a real S3
/// protocol server; this twin only keeps bytes. ``isReachable`` false makes every call
/// fail as an unreachable store does.
public final class MemoryObjectStore: ObjectStore, @unchecked Sendable {
    private let lock = NSLock()
    private var objects: [String: [UInt8]] = [:]
    private var reachable = true
    private var counts: [String: Int] = [:]

    public let location: String

    public init(location: String = "s3://memory/prox") {
        self.location = location
    }

    public var isReachable: Bool {
        get { lock.withLock { reachable } }
        set { lock.withLock { reachable = newValue } }
    }

    /// The stored names, sorted.
    public var names: [String] { lock.withLock { objects.keys.sorted() } }

    /// How many calls of each operation (`put`, `get`, `delete`) were made.
    public func calls(_ operation: String) -> Int { lock.withLock { counts[operation, default: 0] } }

    public subscript(name: String) -> [UInt8]? {
        get { lock.withLock { objects[name] } }
        set { lock.withLock { objects[name] = newValue } }
    }

    private func check(_ operation: String) throws(ProxError) {
        let up = lock.withLock { () -> Bool in
            counts[operation, default: 0] += 1
            return reachable
        }
        guard up else { throw ProxError(.unavailable, "cannot reach the object store \(location): connection refused") }
    }

    public func putFile(_ name: String, path: String, sha256: String, size: Int64) async throws(ProxError) {
        try check("put")
        guard let data = FileManager.default.contents(atPath: path), data.count == size else {
            throw ProxError(.internal, "cannot read \(path)")
        }
        guard SHA256.hash(data: data).hexString == sha256 else { throw ProxError(.unavailable, "\(location) refused storing \(name): BadDigest") }
        self[name] = Array(data)
    }

    public func putData(_ name: String, _ bytes: [UInt8], contentType: String) async throws(ProxError) {
        try check("put")
        self[name] = bytes
    }

    public func getFile(_ name: String, to path: String, limit: Int64) async throws(ProxError) -> (sha256: String, size: Int64)? {
        try check("get")
        guard let bytes = self[name] else { return nil }
        guard bytes.count <= limit else { throw ProxError(.invalidArtifact, "\(location) holds more than the expected \(limit) bytes for \(name)") }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw ProxError(.internal, "cannot write \(path)") }
        return (SHA256.hash(data: bytes).hexString, Int64(bytes.count))
    }

    public func getData(_ name: String, limit: Int) async throws(ProxError) -> [UInt8]? {
        try check("get")
        guard let bytes = self[name] else { return nil }
        guard bytes.count <= limit else { throw ProxError(.unavailable, "\(location) sent more than \(limit) bytes for \(name)") }
        return bytes
    }

    public func delete(_ name: String) async throws(ProxError) {
        try check("delete")
        self[name] = nil
    }

    public func downloadURL(_ name: String, expires: Duration, fileName: String?) async -> String? {
        "https://memory.invalid/\(name)?expires=\(expires.components.seconds)" + (fileName.map { "&filename=\($0)" } ?? "")
    }
}
