import BuildCore
import Crypto
import Foundation
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 of files, read in large chunks on NIO's blocking thread pool.
public enum FileDigest {
    /// Hashes the file at `path` and, when `sync` is true, fsyncs it. Returns the lower-case
    /// hex digest and the number of bytes read.
    public static func sha256(ofFileAt path: String, sync: Bool = false) async throws(ProxError) -> (digest: String, size: Int64) {
        let result: Result<(String, Int64), ProxError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { hashBlocking(path: path, sync: sync) }
        } catch {
            throw ProxError(.internal, "cannot hash \(path): the blocking thread pool is shut down")
        }
        return try result.get()
    }

    static func hashBlocking(path: String, sync: Bool) -> Result<(String, Int64), ProxError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ProxError.posix(errno, while: "opening an artifact to hash it")) }
        defer { close(fd) }
        var hasher = SHA256()
        var total: Int64 = 0
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(ProxError.posix(errno, while: "reading an artifact to hash it"))
            }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
        if sync, fsync(fd) != 0 {
            return .failure(ProxError.posix(errno, while: "writing an artifact to disk (fsync)"))
        }
        return .success((hasher.finalize().hexString, total))
    }
}
