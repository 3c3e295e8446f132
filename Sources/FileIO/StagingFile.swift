import BuildCore
import Crypto
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives an artifact's bytes (an agent's push, a fetch from another hub or a bucket) into a
/// staging file, for ``ArtifactStore/commit(key:build:file:expectedDigest:)``.
public enum StagingFile {
    /// Streams `body` into a new file at `path` (at most `limit` bytes), hashing it on the
    /// way; returns its SHA-256 (hex), size and first 4 KiB. Writes happen on NIO's thread
    /// pool. On error the file may remain: the caller removes it.
    public static func write<Body: AsyncSequence>(_ body: Body, to path: String, limit: Int64) async throws -> (digest: String, size: Int64, header: [UInt8])
    where Body.Element == ByteBuffer {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ProxError.posix(errno, while: "creating a staging file") }
        var closed = false
        defer { if !closed { close(fd) } }
        var hasher = SHA256()
        var size: Int64 = 0
        var header: [UInt8] = []
        var pending = ByteBuffer()
        func flush() async throws {
            guard pending.readableBytes > 0 else { return }
            let chunk = pending
            pending = ByteBuffer()
            try await NIOThreadPool.singleton.runIfActive {
                try chunk.withUnsafeReadableBytes { bytes in
                    var done = 0
                    while done < bytes.count {
                        let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
                        if n < 0 {
                            if errno == EINTR { continue }
                            throw ProxError.posix(errno, while: "writing a staging file")
                        }
                        done += n
                    }
                }
            }
        }
        for try await var chunk in body {
            size += Int64(chunk.readableBytes)
            guard size <= limit else {
                throw ProxError(.invalidRequest, "the body is longer than its declared length: nothing was cached")
            }
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            if header.count < 4096 { header += chunk.getBytes(at: chunk.readerIndex, length: min(4096 - header.count, chunk.readableBytes)) ?? [] }
            pending.writeBuffer(&chunk)
            if pending.readableBytes >= 1 << 20 { try await flush() }
        }
        try await flush()
        closed = true
        guard close(fd) == 0 else { throw ProxError.posix(errno, while: "closing a staging file") }
        return (hasher.finalize().hexString, size, header)
    }

}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif
