import BuildCore
import Foundation
import Provenance

/// `proxhub verify FILE --key KEY [--key KEY] [--signature FILE.minisig] [--provenance FILE.intoto.json]`:
/// checks a downloaded binary offline (``ArtifactVerifier``) and prints one line per check.
/// Exit status 0 when every check passed, 1 when one failed, 64 for a usage error.
enum VerifyCommand {
    static let usage = """
        usage: proxhub verify FILE --key KEY [--key KEY ...] [--signature SIG] [--provenance ENVELOPE]

        Checks a binary from a Prox server offline: its minisign signature, its provenance's
        signature, that the provenance is about this file, and that its toolchain and modules
        are what the binary itself records.
          --key KEY          a trusted public key: a file (minisign's .pub or PEM, from
                             GET /api/signing-key?format=minisign or ?format=pem) or minisign's
                             base64 key itself; repeatable (earlier keys after a rotation)
          --signature SIG    the .minisig (default: FILE.minisig, when it exists)
          --provenance ENV   the DSSE envelope from .../provenance (default: FILE.intoto.json,
                             when it exists)
        """

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    struct Options {
        var file: String
        var keys: [PublicSigningKey]
        var signature: String?
        var provenance: String?
    }

    /// Reads the command line (what follows `verify`).
    static func options(_ arguments: [String], fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }) throws -> Options {
        var file: String?
        var keys: [PublicSigningKey] = []
        var signature: String?
        var provenance: String?
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            let (name, inline) = argument.hasPrefix("--") && argument.contains("=")
                ? (String(argument.prefix { $0 != "=" }), String(argument.drop { $0 != "=" }.dropFirst())) : (argument, nil)
            func value() throws -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else { throw UsageError(description: "\(name) needs a value") }
                return next
            }
            switch name {
            case "--key":
                let text = try value()
                let source = fileExists(text) ? (FileManager.default.contents(atPath: text).map { String(decoding: $0, as: UTF8.self) } ?? "") : text
                do {
                    keys.append(try PublicSigningKey(text: source))
                } catch {
                    throw UsageError(description: "--key \(text): \(error.message)")
                }
            case "--signature": signature = try value()
            case "--provenance": provenance = try value()
            case "-h", "--help": throw UsageError(description: "")
            default:
                guard !name.hasPrefix("-"), file == nil else { throw UsageError(description: "unknown argument \(argument)") }
                file = name
            }
        }
        guard let file else { throw UsageError(description: "give the binary to check") }
        guard !keys.isEmpty else { throw UsageError(description: "give the public key you trust with --key (GET /api/signing-key?format=minisign)") }
        if signature == nil, fileExists(file + ".minisig") { signature = file + ".minisig" }
        if provenance == nil, fileExists(file + ".intoto.json") { provenance = file + ".intoto.json" }
        guard signature != nil || provenance != nil else {
            throw UsageError(description: "nothing to check: give --signature or --provenance (or put \(file).minisig or \(file).intoto.json beside it)")
        }
        return Options(file: file, keys: keys, signature: signature, provenance: provenance)
    }

    /// Runs the check; the exit status.
    static func run(_ arguments: [String]) async -> Int32 {
        let options: Options
        do {
            options = try self.options(arguments)
        } catch {
            let message = "\(error)"
            FileHandle.standardError.write(Data(((message.isEmpty ? "" : "proxhub verify: \(message)\n\n") + usage + "\n").utf8))
            return message.isEmpty ? 0 : 64
        }
        do {
            let report = try await ArtifactVerifier.verify(
                file: options.file, keys: options.keys, signature: options.signature, provenance: options.provenance)
            for check in report.checks {
                print("\(check.passed ? "OK  " : "FAIL") \(check.name): \(check.detail)")
            }
            print(report.passed ? "\(options.file): verified" : "\(options.file): NOT verified")
            return report.passed ? 0 : 1
        } catch {
            FileHandle.standardError.write(Data("proxhub verify: \(error.message)\n".utf8))
            return 1
        }
    }
}
