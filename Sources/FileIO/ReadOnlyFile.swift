import BuildCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading, closed when the last reference goes. Reads run on NIO's
/// blocking thread pool (`NIOThreadPool.singleton`), the one place Prox runs blocking
/// file work, so they never hold a cooperative or event-loop thread.
///
/// The descriptor is opened once: a file unlinked afterwards (an evicted artifact) is
/// still read whole.
public final class ReadOnlyFile: Sendable {
    public let fd: CInt
    /// The size when opened (`fstat`).
    public let size: Int64

    /// Opens `path`; `what` names the file in errors ("the artifact").
    public init(path: String, what: String) throws(ProxError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProxError.posix(errno, while: "opening \(what)") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw ProxError.posix(code, while: "reading \(what)'s size")
        }
        self.fd = fd
        self.size = Int64(st.st_size)
    }

    deinit { close(fd) }

    /// Up to `length` bytes from `offset`: fewer only at the end of the file (none past it).
    public func read(at offset: Int64, length: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) async throws -> ByteBuffer {
        try await NIOThreadPool.singleton.runIfActive { [fd] in
            var buffer = allocator.buffer(capacity: length)
            _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { pointer in
                try Self.pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: pointer[0..<length]), at: offset)
            }
            return buffer
        }
    }

    /// Fills `buffer` from `offset` with `pread`, retrying short reads and EINTR; the bytes
    /// read (fewer than the buffer only at the end of the file).
    static func pread(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(ProxError) -> Int {
        var done = 0
        while done < buffer.count {
            #if canImport(Glibc)
            let r = Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            #else
            let r = Darwin.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            #endif
            if r < 0 {
                if errno == EINTR { continue }
                throw ProxError.posix(errno, while: "reading a file")
            }
            if r == 0 { break }
            done += r
        }
        return done
    }
}

/// What a path names, without opening it.
public enum FileStatus {
    /// A regular file of `size` bytes is at `path` (one `stat`: cheap enough for an event
    /// loop, as a web server's own check of a file it is about to describe).
    public static func isRegularFile(_ path: String, size: Int64) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFREG && Int64(info.st_size) == size
    }
}
