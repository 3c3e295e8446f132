import BuildCore
import Foundation
import ProxCommands
import Provenance
import ProxTestSupport
import Testing

/// Signed provenance on a live proxhub building real binaries, checked with the tools a
/// user has: `go version -m` for the module list, Debian's `minisign` for the binary's
/// signature, Python's `cryptography` for the DSSE envelope (an implementation that is
/// not Prox's), openssl for the key file.
@Suite(.serialized) struct ProvenanceTests {
    static let hello = "/api/download?os=linux&arch=amd64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0"

    /// Runs a program; its exit status and what it wrote (stdout and stderr).
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// What `go version -m` lists: each module with its version and `h1:` sum (of the
    /// replacement, when replaced), and the toolchain.
    static func goVersionM(_ file: String) throws -> (go: String, modules: [String]) {
        let (status, output) = try run(Fixture.goExecutable, ["version", "-m", file])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        let go = String(lines.first?.split(separator: " ").last ?? "")
        var modules: [String] = []
        for line in lines.dropFirst() {
            let fields = line.trimmingCharacters(in: .whitespaces).split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            if fields.first == "dep" {
                modules.append("\(fields[1]) \(fields[2]) \(fields.count > 3 ? fields[3] : "")")
            } else if fields.first == "=>", let last = modules.popLast() {
                let parts = last.split(separator: " ", omittingEmptySubsequences: false)
                modules.append("\(parts[0]) \(parts[1]) \(fields.count > 3 ? fields[3] : "")")
            }
        }
        return (go, modules)
    }

    static let dsseCheck = """
        import base64, json, sys
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
        envelope = json.load(open(sys.argv[1]))
        key = load_pem_public_key(open(sys.argv[2], "rb").read())
        body = base64.b64decode(envelope["payload"])
        kind = envelope["payloadType"].encode()
        pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)
        key.verify(base64.b64decode(envelope["signatures"][0]["sig"]), pae)
        print(json.loads(body)["subject"][0]["digest"]["sha256"])
        """

    @Test func aBuildIsSignedAndGoMinisignPythonAndOpensslAgreeWithIt() async throws {
        let data = Fixture.temporaryDirectory("prox-provenance")
        let work = Fixture.temporaryDirectory("prox-provenance-check")
        let hub = try await LiveHub.start(dataDirectory: data)
        let keyFile = data + "/signing-key.pem"
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int)
        #expect(mode == 0o600, "the key made on first start is mode 0600, not \(String(mode, radix: 8))")

        let download = try await hub.get(Self.hello)
        #expect(download.status == 200)
        let key = try #require(download.header("X-Prox-Cache-Key"))
        #expect(download.header("Link")?.contains("</api/artifacts/\(key)/provenance>; rel=\"provenance\"") == true)
        let binary = work + "/caddy"
        try Data(download.body).write(to: URL(fileURLWithPath: binary))

        // The statement lists what `go version -m` reads from the same file.
        let envelopeReply = try await hub.get("/api/artifacts/\(key)/provenance")
        #expect(envelopeReply.status == 200)
        let envelope = try JSONDecoder.prox.decode(DSSEEnvelope.self, from: Data(envelopeReply.body))
        let statement = try JSONDecoder.prox.decode(ProvenanceStatement.self, from: Data(base64Encoded: envelope.payload)!)
        #expect(statement.subject.first?.digest?["sha256"] == download.sha256)
        let (go, modules) = try Self.goVersionM(binary)
        let dependencies = statement.predicate.buildDefinition.resolvedDependencies
        #expect(dependencies.first?.name == "go" && dependencies.first?.annotations?["version"] == go)
        #expect(dependencies.dropFirst().map { "\($0.name ?? "") \($0.annotations?["version"] ?? "") \($0.digest?["dirHash"] ?? "")" } == modules)
        #expect(modules.contains { $0.hasPrefix("github.com/proxfixture/hello v0.2.0 h1:") })
        #expect(statement.predicate.buildDefinition.internalParameters.settings["-trimpath"] == "true")
        #expect(statement.predicate.buildDefinition.internalParameters.settings["CGO_ENABLED"] == "0")

        // Python's cryptography verifies the envelope with the published PEM key.
        let pem = try await hub.get("/api/signing-key?format=pem").text
        try pem.write(toFile: work + "/key.pem", atomically: true, encoding: .utf8)
        try Self.dsseCheck.write(toFile: work + "/dsse.py", atomically: true, encoding: .utf8)
        try Data(envelopeReply.body).write(to: URL(fileURLWithPath: work + "/envelope.json"))
        let checked = try Self.run("/usr/bin/python3", [work + "/dsse.py", work + "/envelope.json", work + "/key.pem"])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.trimmingCharacters(in: .whitespacesAndNewlines) == download.sha256)
        var forged = envelope
        forged.payload = Data(String(decoding: Data(base64Encoded: envelope.payload)!, as: UTF8.self).replacingOccurrences(of: download.sha256, with: String(repeating: "0", count: 64)).utf8).base64EncodedString()
        try JSONEncoder.prox.encode(forged).write(to: URL(fileURLWithPath: work + "/forged.json"))
        #expect(try Self.run("/usr/bin/python3", [work + "/dsse.py", work + "/forged.json", work + "/key.pem"]).status != 0, "a changed statement fails")

        // Debian's minisign verifies the binary with the published minisign key.
        let id = try #require(download.header("X-Prox-Build-Id"))
        try await hub.get("/api/builds/\(id)/artifact.minisig").text.write(toFile: work + "/caddy.minisig", atomically: true, encoding: .utf8)
        try await hub.get("/api/signing-key?format=minisign").text.write(toFile: work + "/prox.pub", atomically: true, encoding: .utf8)
        let verified = try Self.run("/usr/bin/minisign", ["-V", "-H", "-m", binary, "-x", work + "/caddy.minisig", "-p", work + "/prox.pub"])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("sha256:\(download.sha256)"), "the trusted comment names the digest: \(verified.output)")
        var flipped = download.body
        flipped[flipped.count / 2] ^= 0x01
        try Data(flipped).write(to: URL(fileURLWithPath: work + "/flipped"))
        let refused = try Self.run("/usr/bin/minisign", ["-V", "-m", work + "/flipped", "-x", work + "/caddy.minisig", "-p", work + "/prox.pub"])
        #expect(refused.status != 0, "a flipped byte fails: \(refused.output)")

        // proxhub verify checks all of it offline, and refuses a changed file or statement.
        let proxhub = Fixture.repositoryRoot + "/.build/debug/proxhub"
        try Data(envelopeReply.body).write(to: URL(fileURLWithPath: binary + ".intoto.json"))
        let verify = try Self.run(proxhub, ["verify", binary, "--key", work + "/prox.pub", "--signature", work + "/caddy.minisig"])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(verify.output.contains("OK   modules: \(go) and all \(modules.count) modules"), "\(verify.output)")
        #expect(verify.output.hasSuffix("\(binary): verified\n"), "\(verify.output)")
        let flippedCheck = try Self.run(proxhub, ["verify", work + "/flipped", "--key", work + "/prox.pub", "--signature", work + "/caddy.minisig", "--provenance", binary + ".intoto.json"])
        #expect(flippedCheck.status == 1, "\(flippedCheck.output)")
        #expect(flippedCheck.output.contains("FAIL signature:") && flippedCheck.output.contains("FAIL subject:"), "\(flippedCheck.output)")
        let forgedCheck = try Self.run(proxhub, ["verify", binary, "--key", work + "/key.pem", "--provenance", work + "/forged.json"])
        #expect(forgedCheck.status == 1 && forgedCheck.output.contains("FAIL provenance signature"), "\(forgedCheck.output)")
        let otherKey = SigningKey.generate().publicKey.minisign
        let untrusted = try Self.run(proxhub, ["verify", binary, "--key", otherKey, "--signature", work + "/caddy.minisig"])
        #expect(untrusted.status == 1, "a key one does not trust verifies nothing: \(untrusted.output)")

        // openssl reads the key file, and its public half is the published one.
        let openssl = try Self.run("/usr/bin/openssl", ["pkey", "-in", keyFile, "-pubout"])
        #expect(openssl.status == 0 && openssl.output == pem, "\(openssl.output)")

        // After a restart: the same key, and the same stored provenance.
        await hub.stop()
        let again = try await LiveHub.start(dataDirectory: data)
        #expect(try await again.get("/api/signing-key?format=pem").text == pem)
        #expect(try await again.get("/api/artifacts/\(key)/provenance").body == envelopeReply.body)
        await again.stop()
        try? FileManager.default.removeItem(atPath: work)
    }

    @Test func aRotatedKeyKeepsOldArtifactsVerifiable() async throws {
        let data = Fixture.temporaryDirectory("prox-rotation")
        let first = try await LiveHub.start(dataDirectory: data)
        let download = try await first.get(Self.hello)
        let key = try #require(download.header("X-Prox-Cache-Key"))
        let oldPublic = try await first.get("/api/signing-key?format=pem").text
        await first.stop()

        // A new key; the old one's public half published beside it.
        try FileManager.default.moveItem(atPath: data + "/signing-key.pem", toPath: data + "/old-key.pem")
        try oldPublic.write(toFile: data + "/old-key.pub.pem", atomically: true, encoding: .utf8)
        let second = try await LiveHub.start(dataDirectory: data) { $0.retiredSigningKeys = [data + "/old-key.pub.pem"] }
        let keys = try #require(try await second.get("/api/signing-key").json()["result"] as? [[String: Any]])
        #expect(keys.count == 2)
        #expect(keys.map { $0["current"] as? Bool } == [true, false])
        #expect(keys[1]["pem"] as? String == oldPublic)
        let published = try keys.map { try PublicSigningKey(text: #require($0["pem"] as? String)) }
        let envelope = try JSONDecoder.prox.decode(DSSEEnvelope.self, from: Data(try await second.get("/api/artifacts/\(key)/provenance").body))
        #expect(envelope.signatures.first?.keyid == published[1].id, "the old artifact says which key signed it")
        #expect(envelope.verifiedPayload(keys: published) != nil)
        await second.stop()
    }

    @Test func aRebuildFromScratchInAnotherDirectoryGivesTheSameBytes() async throws {
        // --verify-rebuilds 1: every new artifact is built again in a new directory with
        // empty Go caches (a cold build and module cache), and the digests compared.
        let hub = try await LiveHub.start { $0.verifyRebuilds = 1 }
        let download = try await hub.get("/api/download?os=linux&arch=arm64&p=github.com/proxfixture/hello@v0.2.0&version=v2.8.0")
        #expect(download.status == 200)
        let key = try #require(download.header("X-Prox-Cache-Key"))
        let verifier = try #require(hub.hub.signer.verifier)
        await verifier.idle()
        let info = try #require(try await hub.get("/api/artifacts/\(key)").json()["result"] as? [String: Any])
        let reproduction = try #require(info["reproduction"] as? [String: Any], "\(info)")
        #expect(reproduction["state"] as? String == "reproduced", "\(reproduction)")
        #expect(reproduction["rebuild_sha256"] as? String == download.sha256)
        #expect(try await hub.get("/api/artifacts/\(key)/provenance").header("X-Prox-Reproduced") == "true")
        let scratch = hub.dataDirectory + "/tmp/verify"
        #expect((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? [] == [], "the rebuild's directory and caches are removed")
        await hub.stop()
    }

    @Test func aSigningKeyOthersMayReadStopsTheStart() async throws {
        let data = Fixture.temporaryDirectory("prox-key-mode")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let path = data + "/signing-key.pem"
        try SigningKey.generate().pem.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        await #expect {
            _ = try await LiveHub.start(dataDirectory: data)
        } throws: { error in
            "\(error)".contains("may be read by others (mode 644): chmod 600 \(path)")
        }
        try "not a key".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        await #expect {
            _ = try await LiveHub.start(dataDirectory: data)
        } throws: { error in
            "\(error)".contains("--signing-key") && "\(error)".contains("openssl genpkey -algorithm ed25519")
        }
    }
}
