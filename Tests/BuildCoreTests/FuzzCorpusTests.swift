import Foundation
import ProxFuzzTargets
import ProxTestSupport
import Testing

/// Every input in Fuzz/corpus, through its fuzz target (scripts/fuzz.sh finds new ones; a
/// crash it finds is added there once fixed, and stays a test).
@Suite("the fuzz corpus") struct FuzzCorpusTests {
    @Test("every committed input runs through its target without a crash")
    func corpus() throws {
        let root = Fixture.repositoryRoot + "/Fuzz/corpus"
        var ran = 0
        for target in FuzzTargets.names {
            let files = try FileManager.default.contentsOfDirectory(atPath: root + "/" + target)
            #expect(!files.isEmpty, "Fuzz/corpus/\(target) has no inputs")
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: root + "/" + target + "/" + file))
                #expect(FuzzTargets.run(target, Array(data)))
                ran += 1
            }
        }
        #expect(ran >= FuzzTargets.names.count)
        #expect(!FuzzTargets.run("nonsense", []))
    }
}
