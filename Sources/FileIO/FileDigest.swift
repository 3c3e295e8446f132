import BuildCore
import Crypto
import Foundation
import NIOPosix

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
        var hasher = SHA256()
        do throws(ProxError) {
            let total = try FileScan.blocking(path: path, what: "an artifact", sync: sync) { chunk, _ in hasher.update(bufferPointer: chunk) }
            return .success((hasher.finalize().hexString, total))
        } catch {
            return .failure(error)
        }
    }
}
