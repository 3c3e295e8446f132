import BuildCore
import Foundation
import ProxTestSupport
import Testing

@Suite("ExecutableFormat")
struct ExecutableFormatTests {
    static func platform(_ os: String, _ arch: String, _ arm: String? = nil) throws -> Platform {
        try Platform(os: os, arch: arch, arm: arm)
    }

    @Test("ELF amd64 is accepted for linux/amd64 and rejected for other arches")
    func elfAmd64() throws {
        let header = ExecutableHeaders.elf(machine: 62)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "amd64")) == nil)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("freebsd", "amd64")) == nil)
        let reason = try #require(ExecutableFormat.check(header: header, for: try Self.platform("linux", "arm64")))
        #expect(reason.contains("arm64"))
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "arm", "6")) != nil)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "386")) != nil)
    }

    @Test("ELF arm (32-bit, EM_ARM = 40) is accepted for every GOARM and rejected for amd64", arguments: ["5", "6", "7"])
    func elfArm(arm: String) throws {
        let header = ExecutableHeaders.elf(machine: 40, is64: false)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "arm", arm)) == nil)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "amd64")) != nil)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "arm64")) != nil)
    }

    @Test("ELF machines of other arches")
    func elfOthers() throws {
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 183), for: try Self.platform("linux", "arm64")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 3, is64: false), for: try Self.platform("linux", "386")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 243), for: try Self.platform("linux", "riscv64")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 21), for: try Self.platform("linux", "ppc64le")) == nil)
    }

    @Test("ELF byte order must match the arch")
    func elfByteOrder() throws {
        // s390x and mips are big-endian; mipsle and ppc64le little-endian.
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 22, bigEndian: true), for: try Self.platform("linux", "s390x")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 22, bigEndian: false), for: try Self.platform("linux", "s390x")) != nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 8, bigEndian: true, is64: false), for: try Self.platform("linux", "mips")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 8, bigEndian: false, is64: false), for: try Self.platform("linux", "mipsle")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 8, bigEndian: true, is64: false), for: try Self.platform("linux", "mipsle")) != nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 8, bigEndian: false, is64: false), for: try Self.platform("linux", "mips")) != nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 21, bigEndian: true), for: try Self.platform("linux", "ppc64le")) != nil)
        // An amd64 header byte-swapped reads as a different machine.
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 62, bigEndian: true), for: try Self.platform("linux", "amd64")) != nil)
    }

    @Test("truncated, empty and non-ELF headers are rejected")
    func badElf() throws {
        let linux = try Self.platform("linux", "amd64")
        let empty = try #require(ExecutableFormat.check(header: [], for: linux))
        #expect(empty.contains("empty"))
        #expect(ExecutableFormat.check(header: Array(ExecutableHeaders.elf(machine: 62).prefix(19)), for: linux) != nil)
        #expect(ExecutableFormat.check(header: [0x7F, 0x45, 0x4C, 0x46], for: linux) != nil)
        #expect(ExecutableFormat.check(header: Array("#!/bin/sh\necho hi\n".utf8), for: linux) != nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.pe(machine: 0x8664), for: linux) != nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.machO(cpuType: 0x0100_0007), for: linux) != nil)
    }

    @Test("Mach-O arm64 and amd64")
    func machO() throws {
        let arm64 = ExecutableHeaders.machO(cpuType: 0x0100_000C)
        let amd64 = ExecutableHeaders.machO(cpuType: 0x0100_0007)
        #expect(ExecutableFormat.check(header: arm64, for: try Self.platform("darwin", "arm64")) == nil)
        #expect(ExecutableFormat.check(header: amd64, for: try Self.platform("darwin", "amd64")) == nil)
        #expect(ExecutableFormat.check(header: arm64, for: try Self.platform("darwin", "amd64")) != nil)
        #expect(ExecutableFormat.check(header: amd64, for: try Self.platform("darwin", "arm64")) != nil)
        // An ELF file is not a Mach-O, nor is an empty one.
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 183), for: try Self.platform("darwin", "arm64")) != nil)
        #expect(ExecutableFormat.check(header: [], for: try Self.platform("darwin", "arm64")) != nil)
        // 32-bit Mach-O magic (0xFEEDFACE) is not accepted.
        var mach32 = arm64
        mach32[0] = 0xCE
        #expect(ExecutableFormat.check(header: mach32, for: try Self.platform("darwin", "arm64")) != nil)
    }

    @Test("PE amd64, arm64, 386 and arm")
    func pe() throws {
        #expect(ExecutableFormat.check(header: ExecutableHeaders.pe(machine: 0x8664), for: try Self.platform("windows", "amd64")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.pe(machine: 0xAA64), for: try Self.platform("windows", "arm64")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.pe(machine: 0x014C), for: try Self.platform("windows", "386")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.pe(machine: 0x01C4), for: try Self.platform("windows", "arm", "7")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.pe(machine: 0x8664), for: try Self.platform("windows", "arm64")) != nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.pe(machine: 0xAA64), for: try Self.platform("windows", "amd64")) != nil)
    }

    @Test("PE: MZ without a PE signature, or e_lfanew past the header, is rejected")
    func badPE() throws {
        let windows = try Self.platform("windows", "amd64")
        var noSignature = ExecutableHeaders.pe(machine: 0x8664)
        noSignature[0x80] = 0
        #expect(ExecutableFormat.check(header: noSignature, for: windows) != nil)
        var farOffset = ExecutableHeaders.pe(machine: 0x8664)
        farOffset[0x3C] = 0xFF; farOffset[0x3D] = 0xFF
        #expect(ExecutableFormat.check(header: farOffset, for: windows) != nil)
        #expect(ExecutableFormat.check(header: [0x4D, 0x5A], for: windows) != nil)
        #expect(ExecutableFormat.check(header: [], for: windows) != nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 62), for: windows) != nil)
    }

    @Test("XCOFF for aix and Plan 9 magic numbers")
    func xcoffAndPlan9() throws {
        var xcoff = [UInt8](repeating: 0, count: 64)
        xcoff[0] = 0x01; xcoff[1] = 0xF7
        #expect(ExecutableFormat.check(header: xcoff, for: try Self.platform("aix", "ppc64")) == nil)
        #expect(ExecutableFormat.check(header: ExecutableHeaders.elf(machine: 21, bigEndian: true), for: try Self.platform("aix", "ppc64")) != nil)

        var plan9amd64 = [UInt8](repeating: 0, count: 64)
        plan9amd64[2] = 0x8A; plan9amd64[3] = 0x97
        var plan9386 = [UInt8](repeating: 0, count: 64)
        plan9386[2] = 0x01; plan9386[3] = 0xEB
        #expect(ExecutableFormat.check(header: plan9amd64, for: try Self.platform("plan9", "amd64")) == nil)
        #expect(ExecutableFormat.check(header: plan9386, for: try Self.platform("plan9", "386")) == nil)
        #expect(ExecutableFormat.check(header: plan9386, for: try Self.platform("plan9", "amd64")) != nil)
        #expect(ExecutableFormat.check(header: plan9amd64, for: try Self.platform("plan9", "386")) != nil)
    }

    #if os(Linux) && arch(x86_64)
    @Test("a real executable on this machine (the test binary) is a linux/amd64 ELF")
    func realExecutable() throws {
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/exe"))
        defer { try? handle.close() }
        let header = Array(try #require(try handle.read(upToCount: 4096)))
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "amd64")) == nil)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("linux", "arm64")) != nil)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("darwin", "amd64")) != nil)
        #expect(ExecutableFormat.check(header: header, for: try Self.platform("windows", "amd64")) != nil)
    }
    #endif
}
