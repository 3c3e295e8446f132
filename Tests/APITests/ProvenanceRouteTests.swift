import BuildCore
import Crypto
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Provenance
import ProxTesting
import Testing

/// Signed provenance in process, on the scripted runner (whose binaries carry Go build
/// information as the linker writes it): every new artifact is signed before its build is
/// reported done; the envelope and the minisign signature verify with the published key
/// and name the artifact's digest and modules; refusals name the fix.
@Suite struct ProvenanceRouteTests {
    static let query = "/api/download?os=linux&arch=amd64&p=github.com%2Fproxfixture%2Fhello%40v0.2.0&version=v2.8.4"

    @Test func aBuiltArtifactIsSignedAndItsProvenanceVerifiesWithThePublishedKey() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            let download = try await client.execute(uri: Self.query, method: .get)
            #expect(download.status == .ok)
            let key = try #require(download.headers[.init("X-Prox-Cache-Key")!])
            let id = try #require(download.headers[.init("X-Prox-Build-Id")!])
            #expect(download.headers[.init("Link")!] == #"</api/artifacts/\#(key)/provenance>; rel="provenance", </api/artifacts/\#(key)/minisig>; rel="signature""#)
            let cacheKey = try #require(CacheKey(hex: key))
            let stored = try #require(try await api.store.attestation(for: cacheKey), "signed when the build finished, not when asked")
            #expect(api.logs.events(of: try BuildID(validating: id))?.contains { $0.text == "provenance signed with key \(stored.keyID)" } == true)

            // The published key.
            let keys = try #require(try await client.execute(uri: "/api/signing-key", method: .get).json()["result"] as? [[String: Any]])
            #expect(keys.count == 1 && keys[0]["current"] as? Bool == true)
            let published = try PublicSigningKey(text: try #require(keys[0]["pem"] as? String))
            #expect(published.id == keys[0]["id"] as? String && published == api.signer.key.publicKey)
            let minisignKey = try await client.execute(uri: "/api/signing-key?format=minisign", method: .get)
            #expect(try PublicSigningKey(text: minisignKey.text) == published)
            #expect(try await client.execute(uri: "/api/signing-key?format=pem", method: .get).text == published.pem)

            // The envelope, by key and by build: the same, and signed by that key.
            let byKey = try await client.execute(uri: "/api/artifacts/\(key)/provenance", method: .get)
            #expect(byKey.status == .ok)
            #expect(byKey.headers[.contentType] == "application/vnd.dsse.envelope.v1+json")
            let byBuild = try await client.execute(uri: "/api/builds/\(id)/provenance", method: .get)
            #expect(byBuild.body == byKey.body)
            let envelope = try JSONDecoder.prox.decode(DSSEEnvelope.self, from: Data(byKey.body.readableBytesView))
            let payload = try #require(envelope.verifiedPayload(keys: [published]))
            let statement = try JSONDecoder.prox.decode(ProvenanceStatement.self, from: Data(payload))
            let digest = Array(download.body.readableBytesView).sha256Hex
            #expect(statement.subject.first?.digest?["sha256"] == digest)
            #expect(statement.subject.first?.name == "caddy_linux_amd64_custom")
            let modules = statement.predicate.buildDefinition.resolvedDependencies
            #expect(modules.map(\.name) == ["go", BuildRequest.caddyModulePath, InProcessAPI.hello])
            #expect(modules.last?.digest?["dirHash"] == ScriptedRunner.sum(InProcessAPI.hello, "v0.2.0"))
            #expect(statement.predicate.buildDefinition.externalParameters.caddyVersion == "v2.8.4")
            #expect(statement.predicate.buildDefinition.internalParameters.cacheKey == key)
            #expect(statement.predicate.runDetails.metadata.invocationId == id)
            #expect(statement.predicate.runDetails.builder.id == "urn:prox:builder:proxhub/test-hub")

            // minisign's signature of the binary names the digest in its trusted comment.
            let minisig = try await client.execute(uri: "/api/builds/\(id)/artifact.minisig", method: .get)
            let verified = try #require(Minisign.verify(minisig.text, prehash: Blake2b.hash(Array(download.body.readableBytesView)), keys: [published]))
            #expect(verified.trustedComment.contains("sha256:\(digest)"))
            #expect(try await client.execute(uri: "/api/artifacts/\(key)/minisig", method: .get).text == minisig.text)
        }
    }

    @Test func aPrivateServersKeysAndSignaturesAreNotForSharedCaches() async throws {
        let token = "pull-token-0123456789abcdef"
        let api = try await InProcessAPI(access: AccessPolicy(pullTokens: [token]))
        defer { api.cleanUp() }
        try await api.test { client in
            let auth: HTTPFields = [.authorization: "Bearer \(token)"]
            #expect(try await client.execute(uri: "/api/signing-key", method: .get).status == .unauthorized)
            let keys = try await client.execute(uri: "/api/signing-key", method: .get, headers: auth)
            #expect(keys.headers[.cacheControl] == "private, max-age=300")
            let download = try await client.execute(uri: Self.query, method: .get, headers: auth)
            let key = try #require(download.headers[.init("X-Prox-Cache-Key")!])
            let minisig = try await client.execute(uri: "/api/artifacts/\(key)/minisig", method: .get, headers: auth)
            #expect(minisig.headers[.cacheControl] == "private, max-age=3600")
        }
        let open = try await InProcessAPI()
        defer { open.cleanUp() }
        try await open.test { client in
            let keys = try await client.execute(uri: "/api/signing-key", method: .get)
            #expect(keys.headers[.cacheControl] == "public, max-age=300")
        }
    }

    @Test func refusalsNameTheFix() async throws {
        let api = try await InProcessAPI(script: .init(duration: .seconds(30)))
        defer { api.cleanUp() }
        try await api.test { client in
            let badKey = try await client.execute(uri: "/api/artifacts/xyz/provenance", method: .get)
            #expect(badKey.status == .badRequest)
            #expect(try badKey.error().message.hasPrefix("bad cache key"))
            let unknown = try await client.execute(uri: "/api/artifacts/\(String(repeating: "0", count: 64))/minisig", method: .get)
            #expect(unknown.status == .notFound)
            let format = try await client.execute(uri: "/api/signing-key?format=ssh", method: .get)
            #expect(format.status == .badRequest)
            #expect(try format.error().message == #"unknown format "ssh": use format=json, format=minisign or format=pem"#)

            let body = #"{"os": "linux", "arch": "amd64", "packages": [], "job_id": "still-running"}"#
            #expect(try await client.execute(uri: "/api/builds", method: .post, body: ByteBuffer(string: body)).status == .accepted)
            let running = try await client.execute(uri: "/api/builds/still-running/provenance", method: .get)
            #expect(running.status == .notFound)
            #expect(try running.error().message.hasPrefix("build still-running has no artifact (it is"))
            #expect(try await client.execute(uri: "/api/builds/no%20such/artifact.minisig", method: .get).status == .badRequest)
        }
    }
}

extension Array where Element == UInt8 {
    var sha256Hex: String { Crypto.SHA256.hash(data: self).hexString }
}

/// `--verify-rebuilds` on the scripted runner: a rebuild with the same bytes is
/// `reproduced`, one with other bytes `differs` (both digests shown), a failed one `failed`.
@Suite struct RebuildVerificationRouteTests {
    /// A runner whose output differs from the scripted one by a byte.
    struct PerturbingRunner: BuildRunner {
        func settings() async throws(ProxError) -> BuildSettings { BuildSettings(goVersion: "go1.23.5") }
        func build(_ build: ResolvedBuild, output: String, events: @escaping BuildEventSink) async throws(ProxError) {
            guard FileManager.default.createFile(atPath: output, contents: Data(ScriptedRunner.bytes(for: build) + [0x2a])) else {
                throw ProxError(.internal, "cannot write \(output)")
            }
        }
    }

    static func check(_ runner: any BuildRunner) async throws -> (info: [String: Any], header: String?, sha256: String) {
        let api = try await InProcessAPI(verifyWith: runner)
        defer { api.cleanUp() }
        return try await api.test { client in
            let download = try await client.execute(uri: ProvenanceRouteTests.query, method: .get)
            let key = try #require(download.headers[.init("X-Prox-Cache-Key")!])
            await api.signer.verifier?.idle()
            let info = try #require(try await client.execute(uri: "/api/artifacts/\(key)", method: .get).json()["result"] as? [String: Any])
            let provenance = try await client.execute(uri: "/api/artifacts/\(key)/provenance", method: .get)
            return (info, provenance.headers[.init("X-Prox-Reproduced")!], Array(download.body.readableBytesView).sha256Hex)
        }
    }

    @Test func theSameBytesAreReproduced() async throws {
        let (info, header, sha256) = try await Self.check(ScriptedRunner())
        let reproduction = try #require(info["reproduction"] as? [String: Any])
        #expect(reproduction["state"] as? String == "reproduced")
        #expect(reproduction["rebuild_sha256"] as? String == sha256)
        #expect(header == "true")
        #expect(info["sha256"] as? String == sha256)
        #expect((info["links"] as? [String: String])?["provenance"]?.hasSuffix("/provenance") == true)
    }

    @Test func otherBytesAreReportedWithBothDigests() async throws {
        let (info, header, sha256) = try await Self.check(PerturbingRunner())
        let reproduction = try #require(info["reproduction"] as? [String: Any])
        #expect(reproduction["state"] as? String == "differs")
        let rebuilt = try #require(reproduction["rebuild_sha256"] as? String)
        #expect(rebuilt != sha256 && rebuilt.count == 64)
        #expect(header == "false")
    }

    @Test func aFailedRebuildSaysSo() async throws {
        let failing = ScriptedRunner(script: .init(failure: ProxError(.buildFailed, "go: the proxy is away")))
        let (info, header, _) = try await Self.check(failing)
        let reproduction = try #require(info["reproduction"] as? [String: Any])
        #expect(reproduction["state"] as? String == "failed")
        #expect(reproduction["detail"] as? String == "go: the proxy is away")
        #expect(header == "failed")
    }

    @Test func withoutVerificationNothingIsChecked() async throws {
        let api = try await InProcessAPI()
        defer { api.cleanUp() }
        try await api.test { client in
            let download = try await client.execute(uri: ProvenanceRouteTests.query, method: .get)
            let key = try #require(download.headers[.init("X-Prox-Cache-Key")!])
            let info = try #require(try await client.execute(uri: "/api/artifacts/\(key)", method: .get).json()["result"] as? [String: Any])
            #expect(info["reproduction"] == nil)
            #expect(try await client.execute(uri: "/api/artifacts/\(key)/provenance", method: .get).headers[.init("X-Prox-Reproduced")!] == "unchecked")
        }
    }
}
