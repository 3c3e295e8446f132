import BuildCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One sequential pass over a file, in large chunks, for work that reads every byte once
/// (hashes, searches). Blocking: call it on NIO's thread pool (``FileDigest`` does).
public enum FileScan {
    /// Calls `body` with each chunk of the file at `path` (1 MiB, the last shorter) and the
    /// chunk's offset; returns the number of bytes read. `fsync`s the file first when
    /// `sync` is true. `what` names the file in errors ("an artifact").
    public static func blocking(
        path: String, what: String, sync: Bool = false, _ body: (UnsafeRawBufferPointer, Int64) throws(ProxError) -> Void
    ) throws(ProxError) -> Int64 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProxError.posix(errno, while: "opening \(what)") }
        defer { close(fd) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw ProxError.posix(errno, while: "reading \(what)")
            }
            if n == 0 { break }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), total)
            total += Int64(n)
        }
        if sync, fsync(fd) != 0 {
            throw ProxError.posix(errno, while: "writing \(what) to disk (fsync)")
        }
        return total
    }
}
