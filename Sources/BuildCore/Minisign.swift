import Foundation

/// minisign's detached signatures (`.minisig`), which Debian's `minisign` verifies with
/// `minisign -Vm FILE -P <public key>`.
///
/// The file has four lines: an untrusted comment; base64 of `ED`, the key number and the
/// Ed25519 signature of the file's BLAKE2b-512 digest (minisign's prehashed form, the one
/// `minisign -H` requires); the trusted comment; base64 of the signature of the first
/// signature followed by the trusted comment's text, so the comment cannot be changed.
public enum Minisign {
    /// The BLAKE2b-512 digest minisign signs: feed the file to a ``Blake2b`` and pass
    /// `finalize()` here.
    public static func signature(prehash: [UInt8], key: SigningKey, trustedComment: String, untrustedComment: String) throws(ProxError) -> String {
        precondition(prehash.count == 64, "minisign signs a BLAKE2b-512 digest")
        let trusted = Self.oneLine(trustedComment)
        let signature = try key.sign(prehash)
        let global = try key.sign(signature + Array(trusted.utf8))
        let line = Data(Array("ED".utf8) + key.publicKey.keyNumber + signature).base64EncodedString()
        return "untrusted comment: \(Self.oneLine(untrustedComment))\n\(line)\ntrusted comment: \(trusted)\n\(Data(global).base64EncodedString())\n"
    }

    /// What a valid signature says: the key that made it and its trusted comment.
    public struct Verified: Sendable, Equatable {
        public let keyID: String
        public let trustedComment: String
    }

    /// Checks a `.minisig` against a file's BLAKE2b-512 digest and the public keys one may
    /// trust. Nil when it is malformed, made by none of `keys`, or does not match.
    public static func verify(_ file: String, prehash: [UInt8], keys: [PublicSigningKey]) -> Verified? {
        let lines = file.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        guard lines.count >= 4, lines[2].hasPrefix("trusted comment: "),
            let first = Data(base64Encoded: lines[1]).map(Array.init), first.count == 74, Array(first.prefix(2)) == Array("ED".utf8),
            let global = Data(base64Encoded: lines[3]).map(Array.init), global.count == 64
        else { return nil }
        let number = Array(first[2..<10])
        let signature = Array(first[10...])
        let trusted = String(lines[2].dropFirst("trusted comment: ".count))
        guard let key = keys.first(where: { $0.keyNumber == number }),
            key.isValidSignature(signature, for: prehash),
            key.isValidSignature(global, for: signature + Array(trusted.utf8))
        else { return nil }
        return Verified(keyID: key.id, trustedComment: trusted)
    }

    /// Comments are single lines.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
