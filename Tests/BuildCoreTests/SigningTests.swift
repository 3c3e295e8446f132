import BuildCore
import Foundation
import Testing

/// The signing formats, pure: BLAKE2b against RFC 7693's vector and Python's hashlib,
/// keys in PEM and minisign form, minisign signatures and DSSE envelopes signed and
/// checked (Debian's `minisign`, openssl and Python's `cryptography` check the same
/// output in SystemTests' ProvenanceTests).
@Suite struct SigningTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.hexString }

    @Test func blake2bMatchesTheRFCVectorAndHashlib() {
        #expect(
            Self.hex(Blake2b.hash(Array("abc".utf8)))
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        )
        #expect(
            Self.hex(Blake2b.hash([]))
                == "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        )
        // Exactly eight blocks (the last full block is the final one), and one byte past a block.
        let eightBlocks = Array((0..<4).flatMap { _ in (0...255).map { UInt8($0) } })
        #expect(
            Self.hex(Blake2b.hash(eightBlocks))
                == "6b490f42e902f61b1ee12d3c85e34152e37c94d07ab9ea577cad6a6eb4690fad38064f53a19c225703a5c52cdc9a85add71b339d327e1630ee3432b920240e8a"
        )
        let oneOver = Array((0..<129).map { UInt8($0) })
        #expect(
            Self.hex(Blake2b.hash(oneOver))
                == "f59711d44a031d5f97a9413c065d1e614c417ede998590325f49bad2fd444d3e4418be19aec4e11449ac1a57207898bc57d76a1bcf3566292c20c683a5c4648f"
        )
        // Fed in pieces of any size, the digest is the same.
        var pieces = Blake2b()
        for chunk in stride(from: 0, to: eightBlocks.count, by: 100) { pieces.update(eightBlocks[chunk..<min(chunk + 100, eightBlocks.count)]) }
        #expect(pieces.finalize() == Blake2b.hash(eightBlocks))
    }

    @Test func keysRoundTripThroughPEMAndMinisignForms() throws {
        let key = SigningKey.generate()
        let again = try SigningKey(pem: key.pem)
        #expect(again.publicKey == key.publicKey)
        #expect(key.pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let publicKey = key.publicKey
        #expect(publicKey.id.count == 16 && publicKey.id == publicKey.id.uppercased())
        #expect(try PublicSigningKey(text: publicKey.pem) == publicKey)
        #expect(try PublicSigningKey(text: publicKey.minisignFile) == publicKey)
        #expect(try PublicSigningKey(text: publicKey.minisign) == publicKey)
        #expect(publicKey.minisignFile.hasPrefix("untrusted comment: minisign public key \(publicKey.id)\n"))
        #expect(throws: ProxError.self) { try SigningKey(pem: publicKey.pem) }
        #expect(throws: ProxError.self) { try SigningKey(pem: "not a key") }
        #expect(throws: ProxError.self) { try PublicSigningKey(text: "RWQ=") }
    }

    @Test func minisignSignaturesVerifyAndATamperedFileOrCommentDoesNot() throws {
        let key = SigningKey.generate()
        let other = SigningKey.generate()
        let file = Array("a caddy binary".utf8)
        let signature = try Minisign.signature(
            prehash: Blake2b.hash(file), key: key, trustedComment: "file:caddy sha256:00", untrustedComment: "signature from prox")
        let lines = signature.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0] == "untrusted comment: signature from prox")
        #expect(lines[2] == "trusted comment: file:caddy sha256:00")
        let verified = Minisign.verify(signature, prehash: Blake2b.hash(file), keys: [other.publicKey, key.publicKey])
        #expect(verified?.keyID == key.publicKey.id)
        #expect(verified?.trustedComment == "file:caddy sha256:00")
        #expect(Minisign.verify(signature, prehash: Blake2b.hash(file + [0]), keys: [key.publicKey]) == nil, "another file")
        #expect(Minisign.verify(signature, prehash: Blake2b.hash(file), keys: [other.publicKey]) == nil, "another key")
        let forged = signature.replacingOccurrences(of: "sha256:00", with: "sha256:01")
        #expect(Minisign.verify(forged, prehash: Blake2b.hash(file), keys: [key.publicKey]) == nil, "a changed trusted comment")
    }

    @Test func dsseEnvelopesSignThePAEAndVerifyOnlyUnchanged() throws {
        // The PAE example of the DSSE specification.
        #expect(String(decoding: DSSEEnvelope.pae(type: "http://example.com/HelloWorld", body: Array("hello world".utf8)), as: UTF8.self)
            == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
        let key = SigningKey.generate()
        let payload = Array(#"{"_type":"https://in-toto.io/Statement/v1"}"#.utf8)
        let envelope = try DSSEEnvelope.sign(payload, key: key)
        #expect(envelope.payloadType == "application/vnd.in-toto+json")
        #expect(envelope.signatures.map(\.keyid) == [key.publicKey.id])
        #expect(envelope.verifiedPayload(keys: [key.publicKey]) == payload)
        var retyped = envelope
        retyped.payloadType = "text/plain"
        #expect(retyped.verifiedPayload(keys: [key.publicKey]) == nil, "the type is signed too")
        var changed = envelope
        changed.payload = Data(Array(#"{"_type":"other"}"#.utf8)).base64EncodedString()
        #expect(changed.verifiedPayload(keys: [key.publicKey]) == nil)
        #expect(envelope.verifiedPayload(keys: [SigningKey.generate().publicKey]) == nil)
    }

    static let modinfo = """
        path\tcaddy
        mod\tcaddy\t(devel)\t
        dep\tgithub.com/caddyserver/caddy/v2\tv2.8.4\th1:AAAA=
        dep\tgithub.com/proxfixture/hello\tv0.2.0\th1:BBBB=
        dep\tgithub.com/proxfixture/local\tv0.0.0
        =>\t../local\t
        build\t-buildmode=exe
        build\t-trimpath=true
        build\tCGO_ENABLED=0
        build\tGOARCH=amd64
        build\tGOOS=linux
        build\tGOAMD64=v1

        """

    @Test func goBuildInfoIsReadFromItsHeaderAsTheLinkerWritesIt() throws {
        // Header: magic, pointer size, flags (inline strings), padding to 32 bytes; then
        // uvarint-prefixed version and modinfo, modinfo inside 16-byte sentinels.
        var bytes = GoBuildInfo.magic + [8, 0x2]
        bytes += [UInt8](repeating: 0, count: 32 - bytes.count)
        func string(_ value: [UInt8]) -> [UInt8] {
            var length = value.count
            var out: [UInt8] = []
            while length >= 0x80 {
                out.append(UInt8(length & 0x7f) | 0x80)
                length >>= 7
            }
            return out + [UInt8(length)] + value
        }
        let sentinel = [UInt8](repeating: 0x55, count: 16)
        bytes += string(Array("go1.23.5".utf8)) + string(sentinel + Array(Self.modinfo.utf8) + sentinel) + [0, 0, 0]
        let info = try GoBuildInfo(header: bytes[...])
        #expect(info.goVersion == "go1.23.5")
        #expect(info.path == "caddy")
        #expect(info.main?.version == "(devel)")
        #expect(info.dependencies.map(\.path) == ["github.com/caddyserver/caddy/v2", "github.com/proxfixture/hello", "github.com/proxfixture/local"])
        #expect(info.dependencies[1].sum == "h1:BBBB=")
        #expect(info.dependencies[2].replacement?.path == "../local" && info.dependencies[2].replacement?.version == nil)
        #expect(info.setting("-trimpath") == "true" && info.setting("GOAMD64") == "v1" && info.setting("CGO_ENABLED") == "0")

        #expect(throws: ProxError.self) { try GoBuildInfo(header: bytes[..<40]) }
        var oldLayout = bytes
        oldLayout[15] = 0
        #expect(throws: ProxError.self) { try GoBuildInfo(header: oldLayout[...]) }
        #expect(throws: ProxError.self) { try GoBuildInfo(goVersion: "go1.23.5", modinfo: "=>\t../x\n") }
    }
}
