import BuildCore
import Crypto
import FileIO
import NIOPosix

/// One pass over a binary: its SHA-256, its BLAKE2b-512 (what minisign signs) and its Go
/// build information, found where Go's own reader looks for it: the magic at a 16-byte
/// aligned offset (the section is aligned so in the file too).
enum BinaryScan {
    struct Result {
        var sha256: String
        var prehash: [UInt8]
        var info: GoBuildInfo
    }

    /// How much follows the header at most: the version and the module list.
    static let captureLimit = 1 << 20

    /// The scan, on NIO's thread pool.
    static func scan(path: String) async throws(ProxError) -> Result {
        let scanned: Swift.Result<Result, ProxError>
        do {
            scanned = try await NIOThreadPool.singleton.runIfActive { Swift.Result { () throws(ProxError) in try scanBlocking(path: path) } }
        } catch {
            throw ProxError(.internal, "cannot read \(path): the blocking thread pool is shut down")
        }
        return try scanned.get()
    }

    /// Blocking: run it on the thread pool.
    static func scanBlocking(path: String) throws(ProxError) -> Result {
        var sha = SHA256()
        var blake = Blake2b()
        var captured: [UInt8]?
        var info: GoBuildInfo?
        _ = try FileScan.blocking(path: path, what: "the artifact") { chunk, offset throws(ProxError) in
            sha.update(bufferPointer: chunk)
            blake.update(chunk)
            guard info == nil else { return }
            if captured != nil {
                captured! += chunk.prefix(captureLimit - captured!.count)
            } else if let found = alignedMagic(in: chunk) {
                // Chunks start at multiples of 1 MiB: an aligned offset in the chunk is one in the file.
                captured = Array(chunk[found..<min(chunk.count, found + captureLimit)])
            }
            if let bytes = captured, let parsed = try? GoBuildInfo(header: bytes[...]) {
                info = parsed
            } else if let bytes = captured, bytes.count >= captureLimit {
                captured = nil  // not build information after all: look further
            }
        }
        guard let info else {
            throw ProxError(.invalidArtifact, "the artifact has no Go build information (not a binary the go command built)")
        }
        return Result(sha256: sha.finalize().hexString, prehash: blake.finalize(), info: info)
    }

    /// The first 16-byte aligned offset in `chunk` where the magic starts.
    private static func alignedMagic(in chunk: UnsafeRawBufferPointer) -> Int? {
        let magic = GoBuildInfo.magic
        var offset = 0
        while offset + magic.count <= chunk.count {
            if chunk[offset] == 0xff, chunk[(offset + 1)..<(offset + magic.count)].elementsEqual(magic[1...]) { return offset }
            offset += 16
        }
        return nil
    }
}
