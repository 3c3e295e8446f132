import Foundation

/// An artifact's provenance as the hub signed it: the in-toto statement in a DSSE
/// envelope, and minisign's detached signature of the binary. Kept beside the artifact in
/// the cache (``AttestationStore``); goes when the artifact does.
public struct SignedProvenance: Codable, Sendable, Equatable {
    public var envelope: DSSEEnvelope
    /// The `.minisig` file's text.
    public var minisig: String
    /// The id of the key that signed both (``PublicSigningKey/id``).
    public var keyID: String
    /// The check of a second build from scratch, when one was made (`--verify-rebuilds`).
    public var reproduction: Reproduction?

    public init(envelope: DSSEEnvelope, minisig: String, keyID: String, reproduction: Reproduction? = nil) {
        self.envelope = envelope
        self.minisig = minisig
        self.keyID = keyID
        self.reproduction = reproduction
    }

    /// The statement the envelope carries (not checked: see ``DSSEEnvelope/verifiedPayload(keys:)``).
    public var statement: ProvenanceStatement? {
        guard let payload = Data(base64Encoded: envelope.payload) else { return nil }
        return try? JSONDecoder.prox.decode(ProvenanceStatement.self, from: payload)
    }
}
