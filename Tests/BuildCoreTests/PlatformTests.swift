import BuildCore
import Foundation
import Testing

@Suite("Platform")
struct PlatformTests {
    /// Every (os, arch) pair Prox says it supports, flattened.
    static let supportedPairs: [(String, String)] = Platform.supported.flatMap { entry in entry.arches.map { (entry.os, $0) } }

    @Test("every supported GOOS/GOARCH pair is accepted", arguments: supportedPairs)
    func acceptsSupportedPair(os: String, arch: String) throws {
        let platform = try Platform(os: os, arch: arch)
        #expect(platform.os == os)
        #expect(platform.arch == arch)
        #expect(platform.arm == (arch == "arm" ? 7 : nil))
        #expect(platform.goEnvironment["GOOS"] == os)
        #expect(platform.goEnvironment["GOARCH"] == arch)
        #expect(platform.goEnvironment["GOARM"] == (arch == "arm" ? "7" : nil))
    }

    @Test("arm defaults to GOARM 7, empty arm too")
    func armDefault() throws {
        #expect(try Platform(os: "linux", arch: "arm").arm == 7)
        #expect(try Platform(os: "linux", arch: "arm", arm: "").arm == 7)
        #expect(Platform.defaultARM == 7)
        #expect(try Platform(os: "linux", arch: "arm").description == "linux/arm/v7")
    }

    @Test("arm 5, 6 and 7 are accepted", arguments: [5, 6, 7])
    func armVersions(arm: Int) throws {
        let platform = try Platform(os: "linux", arch: "arm", arm: String(arm))
        #expect(platform.arm == arm)
        #expect(platform.goEnvironment["GOARM"] == String(arm))
        #expect(platform.description == "linux/arm/v\(arm)")
    }

    @Test("unknown GOARM values are rejected and the valid ones named", arguments: ["9", "4", "8", "v6", "x", "6.0", "-7"])
    func armRejected(arm: String) {
        let error = #expect(throws: ProxError.self) { try Platform(os: "linux", arch: "arm", arm: arm) }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("5, 6, 7") == true)
    }

    @Test("arm given for a non-arm architecture is rejected")
    func armForAmd64() {
        let error = #expect(throws: ProxError.self) { try Platform(os: "linux", arch: "amd64", arm: "7") }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("only applies to arch=arm") == true)
        #expect(error?.message.contains("arch=amd64") == true)
    }

    @Test("unknown os: the error lists every valid os")
    func unknownOS() {
        let error = #expect(throws: ProxError.self) { try Platform(os: "beos", arch: "amd64") }
        #expect(error?.kind == .invalidRequest)
        let message = error?.message ?? ""
        #expect(message.contains("\"beos\""))
        for entry in Platform.supported {
            #expect(message.contains(entry.os), "message does not name \(entry.os): \(message)")
        }
    }

    @Test("missing os is reported as missing")
    func missingOS() {
        let error = #expect(throws: ProxError.self) { try Platform(os: "", arch: "amd64") }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.hasPrefix("missing os") == true)
    }

    @Test("unknown arch: the error lists the valid arches of that os only")
    func unknownArch() throws {
        let error = #expect(throws: ProxError.self) { try Platform(os: "darwin", arch: "riscv64") }
        #expect(error?.kind == .invalidRequest)
        let message = try #require(error?.message)
        #expect(message.contains("\"riscv64\""))
        #expect(message.contains("os=darwin"))
        #expect(message.contains("amd64, arm64"))
        #expect(!message.contains("s390x"))
    }

    @Test("missing arch is reported as missing")
    func missingArch() {
        let error = #expect(throws: ProxError.self) { try Platform(os: "linux", arch: "") }
        #expect(error?.message.hasPrefix("missing arch") == true)
    }

    @Test("os and arch are case-sensitive, as Go's are")
    func caseSensitive() {
        #expect(throws: ProxError.self) { try Platform(os: "Linux", arch: "amd64") }
        #expect(throws: ProxError.self) { try Platform(os: "linux", arch: "AMD64") }
    }

    @Test("hostile values are quoted safely in messages")
    func quotedMessage() {
        let error = #expect(throws: ProxError.self) { try Platform(os: "a\nb\u{7F}" + String(repeating: "x", count: 100), arch: "amd64") }
        let message = error?.message ?? ""
        #expect(!message.contains("\n"))
        #expect(!message.contains("\u{7F}"))
        #expect(!message.contains(String(repeating: "x", count: 60)))
    }

    @Test("download file names")
    func downloadFileName() throws {
        #expect(try Platform(os: "linux", arch: "amd64").downloadFileName == "caddy_linux_amd64_custom")
        #expect(try Platform(os: "windows", arch: "amd64").downloadFileName == "caddy_windows_amd64_custom.exe")
        #expect(try Platform(os: "windows", arch: "arm", arm: "6").downloadFileName == "caddy_windows_arm6_custom.exe")
        #expect(try Platform(os: "linux", arch: "arm", arm: "6").downloadFileName == "caddy_linux_arm6_custom")
        #expect(try Platform(os: "linux", arch: "arm").downloadFileName == "caddy_linux_arm7_custom")
        #expect(try Platform(os: "darwin", arch: "arm64").downloadFileName == "caddy_darwin_arm64_custom")
        let arm6 = try Platform(os: "linux", arch: "arm", arm: "6")
        let arm7 = try Platform(os: "linux", arch: "arm", arm: "7")
        #expect(arm6.downloadFileName != arm7.downloadFileName)
        #expect(arm6 != arm7)
    }

    @Test("only windows names end in .exe")
    func exeOnlyOnWindows() {
        for platform in Platform.all {
            #expect(platform.downloadFileName.hasSuffix(".exe") == (platform.os == "windows"), "\(platform)")
        }
    }

    @Test("Platform.all has one entry per supported pair, and one per GOARM for arm")
    func allPlatforms() throws {
        let all = Platform.all
        var expected: [Platform] = []
        for (os, arch) in Self.supportedPairs {
            if arch == "arm" {
                for arm in ["5", "6", "7"] { expected.append(try Platform(os: os, arch: arch, arm: arm)) }
            } else {
                expected.append(try Platform(os: os, arch: arch))
            }
        }
        #expect(all == expected)
        #expect(Set(all).count == all.count)
        let armCount = Self.supportedPairs.filter { $0.1 == "arm" }.count
        #expect(all.count == Self.supportedPairs.count + 2 * armCount)
        #expect(all.filter { $0.os == "linux" && $0.arch == "arm" }.compactMap(\.arm) == [5, 6, 7])
        // Every entry is itself a valid platform.
        for platform in all {
            #expect(try Platform(os: platform.os, arch: platform.arch, arm: platform.arm.map(String.init)) == platform)
        }
        // Download names are unique across every target.
        #expect(Set(all.map(\.downloadFileName)).count == all.count)
    }

    @Test("executable format per os")
    func executableFormat() throws {
        #expect(try Platform(os: "linux", arch: "amd64").executableFormat == .elf)
        #expect(try Platform(os: "freebsd", arch: "arm64").executableFormat == .elf)
        #expect(try Platform(os: "darwin", arch: "arm64").executableFormat == .machO)
        #expect(try Platform(os: "windows", arch: "386").executableFormat == .pe)
        #expect(try Platform(os: "aix", arch: "ppc64").executableFormat == .xcoff)
        #expect(try Platform(os: "plan9", arch: "amd64").executableFormat == .plan9)
    }

    @Test("Codable round trip, and decoding validates")
    func codable() throws {
        let platform = try Platform(os: "linux", arch: "arm", arm: "6")
        let data = try JSONEncoder().encode(platform)
        #expect(try JSONDecoder().decode(Platform.self, from: data) == platform)
        let amd64 = try Platform(os: "linux", arch: "amd64")
        #expect(try JSONDecoder().decode(Platform.self, from: JSONEncoder().encode(amd64)) == amd64)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Platform.self, from: Data(#"{"os":"linux","arch":"arm","arm":9}"#.utf8)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Platform.self, from: Data(#"{"os":"beos","arch":"amd64"}"#.utf8)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Platform.self, from: Data(#"{"os":"linux","arch":"amd64","arm":7}"#.utf8)) }
    }
}
