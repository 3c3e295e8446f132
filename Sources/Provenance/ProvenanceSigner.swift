import BuildCore
import Foundation
import Logging

/// The hub's ``Attestor``: reads a new artifact once (its SHA-256, its BLAKE2b-512 and its
/// Go build information, on NIO's thread pool), makes the in-toto statement, signs it as a
/// DSSE envelope and the binary as a minisign signature, and keeps both in the
/// ``AttestationStore`` beside the artifact.
public struct ProvenanceSigner: Attestor {
    public let key: SigningKey
    public let publicKeys: [PublicSigningKey]
    let store: any AttestationStore
    /// This hub, as provenance names the builder of what it built itself.
    let hubName: String
    /// Rebuilds a fraction of new artifacts to check them (`--verify-rebuilds`).
    public let verifier: RebuildVerifier?
    let logger: Logger

    /// `retired` are the public keys of earlier signing keys, still published.
    public init(
        key: SigningKey, retired: [PublicSigningKey] = [], store: any AttestationStore, hubName: String, verifier: RebuildVerifier? = nil,
        logger: Logger
    ) {
        self.verifier = verifier
        self.key = key
        var keys = [key.publicKey]
        for old in retired where !keys.contains(old) { keys.append(old) }
        self.publicKeys = keys
        self.store = store
        self.hubName = hubName
        self.logger = logger
    }

    public func attest(_ artifact: ArtifactRecord, run: ProvenanceStatement.Run) async throws(ProxError) -> SignedProvenance {
        let signed = try await sign(artifact, run: run)
        try await store.saveAttestation(signed, for: artifact.key)
        await verifier?.consider(artifact)
        return signed
    }

    public func attestation(of artifact: ArtifactRecord) async throws(ProxError) -> SignedProvenance {
        if let stored = try await store.attestation(for: artifact.key) { return stored }
        let run = ProvenanceStatement.Run(buildID: nil, builder: .unknown, startedOn: nil, finishedOn: nil)
        return try await attest(artifact, run: run)
    }

    func sign(_ artifact: ArtifactRecord, run: ProvenanceStatement.Run) async throws(ProxError) -> SignedProvenance {
        let scan = try await BinaryScan.scan(path: artifact.path)
        guard scan.sha256 == artifact.digest else {
            throw ProxError(.invalidArtifact, "the cached file's SHA-256 is \(scan.sha256), not \(artifact.digest) as its index says: not signed")
        }
        let builder =
            switch run.builder {
            case .thisHub: "proxhub/\(hubName)"
            case .agent(let name): "proxagent/\(name)"
            case .unknown: "unknown"
            }
        let statement = try ProvenanceStatement(artifact: artifact, info: scan.info, run: run, builder: builder)
        let payload: [UInt8]
        do {
            payload = Array(try JSONEncoder.prox.encode(statement))
        } catch {
            throw ProxError(.internal, "cannot encode the provenance: \(error)")
        }
        let envelope = try DSSEEnvelope.sign(payload, key: key)
        let build = artifact.build
        let trusted = "prox \(build.platform.downloadFileName) sha256:\(artifact.digest) caddy:\(build.caddyVersion) key:\(artifact.key.hex)"
        let minisig = try Minisign.signature(
            prehash: scan.prehash, key: key, trustedComment: trusted, untrustedComment: "signature from prox signing key \(key.publicKey.id)")
        logger.info("signed provenance", metadata: ["key": "\(artifact.key.hex)", "keyID": "\(key.publicKey.id)", "builder": "\(builder)"])
        return SignedProvenance(envelope: envelope, minisig: minisig, keyID: key.publicKey.id)
    }
}
