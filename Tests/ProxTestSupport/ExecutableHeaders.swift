/// Headers are crafted byte by byte from the published layouts (ELF e_ident/e_machine,
/// Mach-O mach_header_64, PE/COFF), independent of the code under test.
public enum ExecutableHeaders {
    /// A 64-byte ELF header: class (1 = 32-bit, 2 = 64-bit), data (1 = LE, 2 = BE), e_machine.
    public static func elf(machine: UInt16, bigEndian: Bool = false, is64: Bool = true) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 64)
        h[0] = 0x7F; h[1] = 0x45; h[2] = 0x4C; h[3] = 0x46  // \x7FELF
        h[4] = is64 ? 2 : 1
        h[5] = bigEndian ? 2 : 1
        h[6] = 1  // EV_CURRENT
        h[16] = bigEndian ? 0 : 2; h[17] = bigEndian ? 2 : 0  // e_type = ET_EXEC
        if bigEndian {
            h[18] = UInt8(machine >> 8); h[19] = UInt8(machine & 0xFF)
        } else {
            h[18] = UInt8(machine & 0xFF); h[19] = UInt8(machine >> 8)
        }
        return h
    }

    /// mach_header_64: magic 0xFEEDFACF and cputype, little-endian.
    public static func machO(cpuType: UInt32) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 32)
        h[0] = 0xCF; h[1] = 0xFA; h[2] = 0xED; h[3] = 0xFE
        for i in 0..<4 { h[4 + i] = UInt8((cpuType >> (8 * UInt32(i))) & 0xFF) }
        return h
    }

    /// DOS stub with e_lfanew = 0x80, then "PE\0\0" and the COFF machine.
    public static func pe(machine: UInt16) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 0x100)
        h[0] = 0x4D; h[1] = 0x5A  // MZ
        h[0x3C] = 0x80
        h[0x80] = 0x50; h[0x81] = 0x45  // PE\0\0
        h[0x84] = UInt8(machine & 0xFF); h[0x85] = UInt8(machine >> 8)
        return h
    }
}
