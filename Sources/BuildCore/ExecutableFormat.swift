/// The object file formats the Go linker writes, with checks of a file's header against
/// the target it was built for.
public enum ExecutableFormat: String, Sendable, Codable {
    case elf, machO = "mach-o", pe, xcoff, plan9

    /// Checks `header` (the first bytes of a file, at least 512 when available) is an
    /// executable of this format for `platform`'s architecture. Returns a reason when not.
    public static func check(header: [UInt8], for platform: Platform) -> String? {
        let format = platform.executableFormat
        func u16le(_ o: Int) -> Int? { o + 1 < header.count ? Int(header[o]) | Int(header[o + 1]) << 8 : nil }
        func u16be(_ o: Int) -> Int? { o + 1 < header.count ? Int(header[o]) << 8 | Int(header[o + 1]) : nil }
        func u32le(_ o: Int) -> Int? { o + 3 < header.count ? (0..<4).reduce(0) { $0 | Int(header[o + $1]) << (8 * $1) } : nil }
        func u32be(_ o: Int) -> Int? { o + 3 < header.count ? (0..<4).reduce(0) { $0 << 8 | Int(header[o + $1]) } : nil }
        guard !header.isEmpty else { return "the file is empty" }
        switch format {
        case .elf:
            guard header.starts(with: [0x7F, 0x45, 0x4C, 0x46]), header.count >= 20 else { return "not an ELF executable" }
            let bigEndian = header[5] == 2
            let machine = bigEndian ? u16be(18) : u16le(18)
            let expected: [String: Int] = [
                "amd64": 62, "arm64": 183, "arm": 40, "386": 3, "ppc64le": 21, "ppc64": 21, "s390x": 22,
                "riscv64": 243, "mips": 8, "mipsle": 8, "mips64": 8, "mips64le": 8,
            ]
            if let want = expected[platform.arch], machine != want {
                return "ELF machine \(machine ?? -1) is not \(platform.arch)"
            }
            let wantBig = ["mips", "mips64", "s390x", "ppc64"].contains(platform.arch)
            if bigEndian != wantBig { return "ELF byte order does not match \(platform.arch)" }
        case .machO:
            guard u32le(0) == 0xFEED_FACF else { return "not a 64-bit Mach-O executable" }
            let cpu = u32le(4)
            let want = platform.arch == "arm64" ? 0x0100_000C : 0x0100_0007
            if cpu != want { return "Mach-O CPU type does not match \(platform.arch)" }
        case .pe:
            guard header.starts(with: [0x4D, 0x5A]), let peOffset = u32le(0x3C), let sig = u32le(peOffset), sig == 0x0000_4550 else {
                return "not a PE (Windows) executable"
            }
            let machine = u16le(peOffset + 4)
            let expected: [String: Int] = ["amd64": 0x8664, "arm64": 0xAA64, "386": 0x14C, "arm": 0x1C4]
            if let want = expected[platform.arch], machine != want { return "PE machine does not match \(platform.arch)" }
        case .xcoff:
            guard u16be(0) == 0x01F7 else { return "not a 64-bit XCOFF executable" }
        case .plan9:
            let magic = u32be(0)
            let want = platform.arch == "amd64" ? 0x0000_8A97 : 0x0000_01EB
            if magic != want { return "not a Plan 9 executable for \(platform.arch)" }
        }
        return nil
    }
}
