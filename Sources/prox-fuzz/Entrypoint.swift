import Foundation
import ProxFuzzTargets

#if FUZZING
// libFuzzer calls this with each input (scripts/fuzz.sh builds with --sanitize=fuzzer);
// PROX_FUZZ_TARGET names the target.
nonisolated(unsafe) let target = ProcessInfo.processInfo.environment["PROX_FUZZ_TARGET"] ?? ""

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard FuzzTargets.run(target, Array(UnsafeRawBufferPointer(start: start, count: count))) else {
        fatalError("PROX_FUZZ_TARGET must be one of \(FuzzTargets.names.joined(separator: ", "))")
    }
    return 0
}
#else
/// Without the fuzzer: `prox-fuzz <target> <file>...` runs the target on each file (to
/// replay a crash that scripts/fuzz.sh reported).
@main
struct ReplayFuzzInputs {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let target = arguments.first, FuzzTargets.names.contains(target) else {
            print("usage: prox-fuzz <\(FuzzTargets.names.joined(separator: "|"))> <file>...")
            exit(64)
        }
        for file in arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            FuzzTargets.run(target, Array(data))
            print("\(target): \(file): ok")
        }
    }
}
#endif
