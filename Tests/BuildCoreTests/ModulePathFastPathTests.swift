import Testing

@testable import BuildCore

/// `ModuleSpec.isPlainModulePath` is a byte-level shortcut in front of the detailed check:
/// it may send a valid path to the detailed check, never accept an invalid one.
@Suite("module path fast path")
struct ModulePathFastPathTests {
    /// Every path of up to `length` characters over an alphabet that hits each rule.
    static func paths(length: Int) -> [String] {
        let alphabet: [Character] = ["a", "B", ".", "/", "-", "_", "~", "1", ":", "@"]
        var all: [String] = [""]
        var frontier: [String] = [""]
        for _ in 0..<length {
            frontier = frontier.flatMap { prefix in alphabet.map { prefix + String($0) } }
            all += frontier
        }
        return all
    }

    @Test func acceptsOnlyWhatTheDetailedCheckAccepts() {
        var accepted = 0
        for path in Self.paths(length: 6) {
            guard ModuleSpec.isPlainModulePath(path) else { continue }
            accepted += 1
            #expect(throws: Never.self, "fast path accepted \(path)") {
                // The detailed check alone: the public entry point would take the fast path.
                try ModuleSpec.validateModulePathInDetail(path, role: "module path")
            }
        }
        #expect(accepted > 100, "the fast path is used at all")
    }

    @Test(arguments: [
        "github.com/caddy-dns/cloudflare", "github.com/ProxFixture/UpperCase", "github.com/proxfixture/majortwo/v2",
        "example.com/a_b~c/d-e.f", "gopkg.in/yaml.v3",
    ])
    func commonPathsTakeTheFastPath(path: String) {
        #expect(ModuleSpec.isPlainModulePath(path))
    }
}
