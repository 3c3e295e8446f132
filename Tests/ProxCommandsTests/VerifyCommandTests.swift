import BuildCore
import Testing

@testable import ProxCommands

/// `proxhub verify`'s command line: keys as files or text, the default file names beside
/// the binary, and usage errors that name the fix.
@Suite struct VerifyCommandTests {
    @Test func keysSignatureAndProvenanceAreReadWithDefaultsBesideTheFile() throws {
        let key = SigningKey.generate().publicKey
        let present: Set<String> = ["caddy", "caddy.minisig", "caddy.intoto.json"]
        let options = try VerifyCommand.options(["caddy", "--key", key.minisign], fileExists: { present.contains($0) })
        #expect(options.file == "caddy")
        #expect(options.keys == [key])
        #expect(options.signature == "caddy.minisig" && options.provenance == "caddy.intoto.json")
        let explicit = try VerifyCommand.options(
            ["--key=\(key.minisign)", "--signature", "s.sig", "--provenance=p.json", "bin"], fileExists: { _ in false })
        #expect(explicit.signature == "s.sig" && explicit.provenance == "p.json" && explicit.file == "bin")
    }

    @Test func usageErrorsNameTheFix() {
        let key = SigningKey.generate().publicKey.minisign
        let cases: [([String], String)] = [
            (["--key", key], "give the binary to check"),
            (["caddy"], "give the public key you trust with --key (GET /api/signing-key?format=minisign)"),
            (["caddy", "--key", key], "nothing to check: give --signature or --provenance (or put caddy.minisig or caddy.intoto.json beside it)"),
            (["caddy", "--key", "RWQ="], "--key RWQ=: not a public key: give an Ed25519 key as PEM or minisign's public key"),
            (["caddy", "--key"], "--key needs a value"),
            (["caddy", "--frobnicate", "--key", key], "unknown argument --frobnicate"),
        ]
        for (arguments, message) in cases {
            #expect(throws: VerifyCommand.UsageError.self, "\(arguments)") {
                do {
                    _ = try VerifyCommand.options(arguments, fileExists: { _ in false })
                } catch let error as VerifyCommand.UsageError {
                    #expect(error.description == message)
                    throw error
                }
            }
        }
    }
}
