import BuildCore
import Foundation

/// `proxhub verify FILE`: checks a downloaded binary offline, with nothing but the files a
/// user fetched and the public keys they trust:
/// 1. its minisign signature (`FILE.minisig`);
/// 2. its provenance (`FILE.intoto.json`, the DSSE envelope): signed by a trusted key,
///    and its subject's SHA-256 is the file's;
/// 3. the statement's toolchain and module list are what the binary itself records (its Go
///    build information, as `go version -m` reads it).
public enum ArtifactVerifier {
    /// One check and what it found.
    public struct Check: Sendable, Equatable {
        public let name: String
        public let passed: Bool
        public let detail: String
    }

    public struct Report: Sendable {
        public let checks: [Check]
        public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
    }

    /// Checks `file` with the signature and provenance files given (nil: skipped, and the
    /// report says so by its absence) against `keys`.
    public static func verify(file: String, keys: [PublicSigningKey], signature: String?, provenance: String?) async throws(ProxError) -> Report {
        let scan = try await BinaryScan.scan(path: file)
        var checks: [Check] = []

        if let signature {
            let text = try read(signature, what: "the signature")
            if let verified = Minisign.verify(text, prehash: scan.prehash, keys: keys) {
                checks.append(Check(name: "signature", passed: true, detail: "minisign signature by key \(verified.keyID): \(verified.trustedComment)"))
            } else {
                checks.append(Check(name: "signature", passed: false, detail: "\(signature) is not a valid signature of \(file) by any of the keys given"))
            }
        }

        if let provenance {
            let text = try read(provenance, what: "the provenance")
            guard let envelope = try? JSONDecoder.prox.decode(DSSEEnvelope.self, from: Data(text.utf8)) else {
                throw ProxError.invalid("\(provenance) is not a DSSE envelope (JSON with payloadType, payload and signatures)")
            }
            guard let payload = envelope.verifiedPayload(keys: keys) else {
                checks.append(Check(name: "provenance signature", passed: false, detail: "the envelope is not signed by any of the keys given"))
                return Report(checks: checks)
            }
            checks.append(Check(name: "provenance signature", passed: true, detail: "signed by key \(envelope.signatures.map(\.keyid).joined(separator: ", "))"))
            guard let statement = try? JSONDecoder.prox.decode(ProvenanceStatement.self, from: Data(payload)) else {
                checks.append(Check(name: "statement", passed: false, detail: "the signed payload is not an in-toto statement Prox reads"))
                return Report(checks: checks)
            }
            let subject = statement.subject.first?.digest?["sha256"]
            checks.append(
                Check(
                    name: "subject", passed: subject == scan.sha256,
                    detail: subject == scan.sha256
                        ? "the statement is about this file (sha256 \(scan.sha256))"
                        : "the statement is about sha256 \(subject ?? "none"), this file is \(scan.sha256)"
                ))
            checks.append(modules(statement, scan.info))
        }
        return Report(checks: checks)
    }

    /// The statement's toolchain and modules against the binary's own build information.
    static func modules(_ statement: ProvenanceStatement, _ info: GoBuildInfo) -> Check {
        let listed = statement.predicate.buildDefinition.resolvedDependencies
        let go = listed.first { $0.name == "go" }?.annotations?["version"]
        func line(_ name: String?, _ version: String?, _ sum: String?) -> String { "\(name ?? "?") \(version ?? "?") \(sum ?? "-")" }
        let stated = listed.filter { $0.name != "go" }.map { line($0.name, $0.annotations?["version"], $0.digest?["dirHash"]) }
        let recorded = info.dependencies.map { line($0.path, $0.version, $0.replacement.map { $0.sum } ?? $0.sum) }
        guard go == info.goVersion else {
            return Check(name: "modules", passed: false, detail: "the statement names toolchain \(go ?? "none"), the binary was built with \(info.goVersion)")
        }
        guard stated == recorded else {
            let missing = Set(recorded).subtracting(stated).sorted()
            let extra = Set(stated).subtracting(recorded).sorted()
            return Check(
                name: "modules", passed: false,
                detail: "the statement's modules differ from the binary's: in the binary only: \(missing.joined(separator: "; ")); in the statement only: \(extra.joined(separator: "; "))"
            )
        }
        return Check(name: "modules", passed: true, detail: "\(info.goVersion) and all \(recorded.count) modules, with their versions and sums, are what the binary records")
    }

    private static func read(_ path: String, what: String) throws(ProxError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProxError.invalid("cannot read \(what) \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
