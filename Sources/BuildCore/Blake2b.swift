/// BLAKE2b (RFC 7693), unkeyed, as minisign prehashes the files it signs (BLAKE2b-512).
/// swift-crypto has no BLAKE2; this is the RFC's reference algorithm, checked against its
/// test vector and against Debian's `minisign`.
public struct Blake2b: Sendable {
    private static let iv: [UInt64] = [
        0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179,
    ]
    private static let sigma: [[Int]] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ]

    private var h: [UInt64]
    private var buffer: [UInt8] = []
    private var counter: UInt64 = 0
    private let outputLength: Int

    /// A hash of `outputLength` bytes (1 to 64).
    public init(outputLength: Int = 64) {
        precondition((1...64).contains(outputLength), "BLAKE2b output is 1 to 64 bytes")
        self.outputLength = outputLength
        h = Self.iv
        h[0] ^= 0x0101_0000 ^ UInt64(outputLength)
        buffer.reserveCapacity(128)
    }

    /// Adds `bytes` to the hashed input.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { update(Array(bytes)) }
    }

    /// Adds `bytes` to the hashed input.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            // The last block is compressed in `finalize`, so a full buffer is compressed only
            // once more input arrives.
            if buffer.count == 128 {
                counter &+= 128
                compress(last: false)
                buffer.removeAll(keepingCapacity: true)
            }
            let take = min(128 - buffer.count, bytes.count - offset)
            buffer.append(contentsOf: bytes[offset..<(offset + take)])
            offset += take
        }
    }

    /// The digest of everything added.
    public mutating func finalize() -> [UInt8] {
        counter &+= UInt64(buffer.count)
        buffer += [UInt8](repeating: 0, count: 128 - buffer.count)
        compress(last: true)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for word in h {
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return Array(out.prefix(outputLength))
    }

    /// The BLAKE2b-512 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>, outputLength: Int = 64) -> [UInt8] {
        var hasher = Blake2b(outputLength: outputLength)
        hasher.update(bytes)
        return hasher.finalize()
    }

    private mutating func compress(last: Bool) {
        let counter = self.counter
        buffer.withUnsafeBytes { block in
            h.withUnsafeMutableBufferPointer { h in
                Self.compress(h, block: block, counter: counter, last: last)
            }
        }
    }

    /// The F function of RFC 7693 on one 128-byte block, with no allocation.
    private static func compress(_ h: UnsafeMutableBufferPointer<UInt64>, block: UnsafeRawBufferPointer, counter: UInt64, last: Bool) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 32) { scratch in
            let m = scratch.baseAddress!
            let v = m + 16
            for i in 0..<16 { m[i] = UInt64(littleEndian: block.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
            for i in 0..<8 {
                v[i] = h[i]
                v[i + 8] = iv[i]
            }
            v[12] ^= counter  // inputs stay far below 2^64 bytes: the high counter word is 0
            if last { v[14] = ~v[14] }
            @inline(__always) func mix(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt64, _ y: UInt64) {
                v[a] = v[a] &+ v[b] &+ x
                v[d] = (v[d] ^ v[a]).rotatedRight(32)
                v[c] = v[c] &+ v[d]
                v[b] = (v[b] ^ v[c]).rotatedRight(24)
                v[a] = v[a] &+ v[b] &+ y
                v[d] = (v[d] ^ v[a]).rotatedRight(16)
                v[c] = v[c] &+ v[d]
                v[b] = (v[b] ^ v[c]).rotatedRight(63)
            }
            sigmaTable.withUnsafeBufferPointer { sigma in
                for round in 0..<12 {
                    let s = sigma.baseAddress! + (round % 10) * 16
                    mix(0, 4, 8, 12, m[Int(s[0])], m[Int(s[1])])
                    mix(1, 5, 9, 13, m[Int(s[2])], m[Int(s[3])])
                    mix(2, 6, 10, 14, m[Int(s[4])], m[Int(s[5])])
                    mix(3, 7, 11, 15, m[Int(s[6])], m[Int(s[7])])
                    mix(0, 5, 10, 15, m[Int(s[8])], m[Int(s[9])])
                    mix(1, 6, 11, 12, m[Int(s[10])], m[Int(s[11])])
                    mix(2, 7, 8, 13, m[Int(s[12])], m[Int(s[13])])
                    mix(3, 4, 9, 14, m[Int(s[14])], m[Int(s[15])])
                }
            }
            for i in 0..<8 { h[i] ^= v[i] ^ v[i + 8] }
        }
    }

    private static let sigmaTable: [UInt8] = sigma.flatMap { $0.map(UInt8.init) }
}

extension UInt64 {
    fileprivate func rotatedRight(_ n: UInt64) -> UInt64 { (self >> n) | (self << (64 - n)) }
}
