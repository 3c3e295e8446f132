import BuildCore
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The hub's signing key on disk: a PKCS#8 PEM file that only its owner may read.
public enum SigningKeyFile {
    /// Reads the key at `path`, or makes one there when there is no file (mode 0600,
    /// created exclusively, fsynced, so two hubs starting at once cannot both write it).
    /// A key readable by group or others, or a file that is not an Ed25519 key, throws
    /// with the fix.
    public static func loadOrCreate(at path: String, logger: Logger) throws(ProxError) -> SigningKey {
        if let existing = try load(at: path) { return existing }
        let key = SigningKey.generate()
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST, let raced = try load(at: path) { return raced }  // another process made it first
            throw ProxError.posix(errno, while: "creating the signing key \(path)")
        }
        let bytes = Array(key.pem.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else {
            unlink(path)
            throw ProxError(.internal, "cannot write the signing key \(path)")
        }
        logger.notice("made a new signing key", metadata: ["file": "\(path)", "keyID": "\(key.publicKey.id)"])
        return key
    }

    /// The key at `path`; nil when there is no file.
    static func load(at path: String) throws(ProxError) -> SigningKey? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw ProxError.posix(errno, while: "reading the signing key \(path)")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw ProxError.invalid(
                "the signing key \(path) may be read by others (mode \(String(st.st_mode & 0o777, radix: 8))): chmod 600 \(path)")
        }
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ProxError(.internal, "cannot read the signing key \(path)")
        }
        do {
            return try SigningKey(pem: text)
        } catch {
            throw ProxError.invalid("\(path): \(error.message)")
        }
    }

    /// Public keys of retired signing keys (PEM or minisign form, one per file), published
    /// so that what they signed stays verifiable.
    public static func publicKeys(at paths: [String]) throws(ProxError) -> [PublicSigningKey] {
        var keys: [PublicSigningKey] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ProxError.invalid("cannot read the public key \(path)")
            }
            do {
                keys.append(try PublicSigningKey(text: String(decoding: data, as: UTF8.self)))
            } catch {
                throw ProxError.invalid("\(path): \(error.message)")
            }
        }
        return keys
    }
}
