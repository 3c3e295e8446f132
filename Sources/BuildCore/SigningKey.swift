import Crypto
import Foundation

/// The Ed25519 key a hub signs provenance and binaries with. Only the hub holds it:
/// agents push artifacts, the hub checks their digest and signs (as attic does).
///
/// On disk it is a PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`), the form
/// `openssl genpkey -algorithm ed25519` writes and `openssl pkey` reads.
public struct SigningKey: Sendable {
    /// The 32-byte seed (swift-crypto's key type is not `Sendable`).
    private let seed: [UInt8]

    public init(_ privateKey: Curve25519.Signing.PrivateKey) {
        seed = Array(privateKey.rawRepresentation)
    }

    public var privateKey: Curve25519.Signing.PrivateKey {
        // The seed came from a valid key.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// A new random key.
    public static func generate() -> SigningKey { SigningKey(Curve25519.Signing.PrivateKey()) }

    public var publicKey: PublicSigningKey { PublicSigningKey(privateKey.publicKey) }

    /// An Ed25519 signature of `message`.
    public func sign(_ message: some DataProtocol) throws(ProxError) -> [UInt8] {
        do {
            return Array(try privateKey.signature(for: message))
        } catch {
            throw ProxError(.internal, "cannot sign with the signing key: \(error)")
        }
    }

    // PKCS#8 for Ed25519 (RFC 8410): SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 },
    // OCTET STRING { OCTET STRING (32-byte seed) } }.
    static let pkcs8Prefix: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]

    /// The key as a PKCS#8 PEM document.
    public var pem: String {
        PEM.encode(Self.pkcs8Prefix + seed, label: "PRIVATE KEY")
    }

    /// Reads a PKCS#8 PEM Ed25519 private key; anything else throws, naming what it found.
    public init(pem text: String) throws(ProxError) {
        let fix = "make one with openssl genpkey -algorithm ed25519, or remove the file to have one made"
        guard let der = try? PEM.decode(text, label: "PRIVATE KEY") else {
            throw ProxError.invalid("the signing key is not a PEM private key (-----BEGIN PRIVATE KEY-----): \(fix)")
        }
        guard der.count == Self.pkcs8Prefix.count + 32, Array(der.prefix(Self.pkcs8Prefix.count)) == Self.pkcs8Prefix else {
            throw ProxError.invalid("the signing key is not an Ed25519 private key in PKCS#8 PEM: \(fix)")
        }
        guard (try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32))) != nil else {
            throw ProxError.invalid("the signing key's Ed25519 seed is invalid")
        }
        seed = Array(der.suffix(32))
    }
}

/// An Ed25519 public key with the id that signatures name it by.
///
/// The id is 8 bytes: the first 8 of the SHA-256 of the key, so a key always has the same
/// id. It is minisign's key id; written as minisign prints it (16 upper-case hex digits of
/// the bytes read as a little-endian number), it is also the DSSE `keyid`.
public struct PublicSigningKey: Sendable, Hashable {
    public let rawRepresentation: [UInt8]

    public init(_ key: Curve25519.Signing.PublicKey) {
        rawRepresentation = Array(key.rawRepresentation)
    }

    /// From the 32 raw bytes.
    public init(rawRepresentation bytes: [UInt8]) throws(ProxError) {
        guard bytes.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else {
            throw ProxError.invalid("not an Ed25519 public key (32 bytes)")
        }
        rawRepresentation = bytes
    }

    /// minisign's 8-byte key number.
    public var keyNumber: [UInt8] { Array(SHA256.hash(data: rawRepresentation).prefix(8)) }

    /// The key id: 16 upper-case hex digits, as minisign prints it.
    public var id: String {
        let value = keyNumber.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let hex = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// minisign's public key: base64 of `Ed`, the key number and the key.
    public var minisign: String { Data(Array("Ed".utf8) + keyNumber + rawRepresentation).base64EncodedString() }

    /// A minisign public key file (`minisign -V -p FILE`).
    public var minisignFile: String { "untrusted comment: minisign public key \(id)\n\(minisign)\n" }

    // SubjectPublicKeyInfo for Ed25519 (RFC 8410).
    static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// The key as an SPKI PEM document (`-----BEGIN PUBLIC KEY-----`).
    public var pem: String { PEM.encode(Self.spkiPrefix + rawRepresentation, label: "PUBLIC KEY") }

    /// Reads a public key in any form Prox publishes: SPKI PEM, a minisign public key file,
    /// or minisign's base64 line alone.
    public init(text: String) throws(ProxError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("-----BEGIN") {
            let der = try PEM.decode(trimmed, label: "PUBLIC KEY")
            guard der.count == Self.spkiPrefix.count + 32, Array(der.prefix(Self.spkiPrefix.count)) == Self.spkiPrefix else {
                throw ProxError.invalid("not an Ed25519 public key in PEM")
            }
            try self.init(rawRepresentation: Array(der.suffix(32)))
            return
        }
        let line = trimmed.split(separator: "\n").last.map(String.init) ?? ""
        guard let bytes = Data(base64Encoded: line.trimmingCharacters(in: .whitespaces)).map(Array.init), bytes.count == 42, bytes.prefix(2) == [0x45, 0x64] else {
            throw ProxError.invalid("not a public key: give an Ed25519 key as PEM or minisign's public key")
        }
        try self.init(rawRepresentation: Array(bytes.suffix(32)))
        guard keyNumber == Array(bytes[2..<10]) else {
            throw ProxError.invalid("the minisign public key's id does not match its key (not a key Prox made)")
        }
    }

    /// True when `signature` is this key's Ed25519 signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: some DataProtocol) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// PEM armour (RFC 7468): base64 in lines of 64 between BEGIN and END lines.
enum PEM {
    static func encode(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
    }

    static func decode(_ text: String, label: String) throws(ProxError) -> [UInt8] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN \(label)-----"), let end = lines.firstIndex(of: "-----END \(label)-----"), begin < end,
            let der = Data(base64Encoded: lines[(begin + 1)..<end].joined())
        else {
            throw ProxError.invalid("not a PEM \(label.lowercased()) (-----BEGIN \(label)----- ... -----END \(label)-----)")
        }
        return Array(der)
    }
}
