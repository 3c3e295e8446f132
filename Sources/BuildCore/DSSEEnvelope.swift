import Foundation

/// A signed document in the Dead Simple Signing Envelope (DSSE v1) form that in-toto
/// attestations travel in: the payload (base64) and its type, and signatures over the
/// pre-authentication encoding (PAE) of both, so a signature cannot be moved to a payload
/// of another type.
public struct DSSEEnvelope: Codable, Sendable, Equatable {
    public struct Signature: Codable, Sendable, Equatable {
        /// The signing key's id (``PublicSigningKey/id``).
        public var keyid: String
        /// The Ed25519 signature of the PAE, base64.
        public var sig: String
    }

    public var payloadType: String
    /// The payload, base64 (standard alphabet, padded).
    public var payload: String
    public var signatures: [Signature]

    /// The in-toto attestation payload type.
    public static let inTotoPayloadType = "application/vnd.in-toto+json"

    /// `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal bytes.
    public static func pae(type: String, body: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return Array("DSSEv1 \(typeBytes.count) ".utf8) + typeBytes + Array(" \(body.count) ".utf8) + body
    }

    /// `payload` signed by `key`.
    public static func sign(_ payload: [UInt8], type: String = inTotoPayloadType, key: SigningKey) throws(ProxError) -> DSSEEnvelope {
        let signature = try key.sign(pae(type: type, body: payload))
        return DSSEEnvelope(
            payloadType: type, payload: Data(payload).base64EncodedString(),
            signatures: [Signature(keyid: key.publicKey.id, sig: Data(signature).base64EncodedString())]
        )
    }

    /// The payload's bytes, when some signature is valid and made by one of `keys`.
    public func verifiedPayload(keys: [PublicSigningKey]) -> [UInt8]? {
        guard let body = Data(base64Encoded: payload).map(Array.init) else { return nil }
        let message = Self.pae(type: payloadType, body: body)
        for signature in signatures {
            guard let key = keys.first(where: { $0.id == signature.keyid }), let sig = Data(base64Encoded: signature.sig).map(Array.init) else { continue }
            if key.isValidSignature(sig, for: message) { return body }
        }
        return nil
    }
}
