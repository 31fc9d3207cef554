/// SHA-1 (FIPS 180-4), only because Redis names cached scripts by it (`EVALSHA`): the
/// cluster limiter must know its script's name without asking Redis first. Not for
/// anything that needs collision resistance.
package enum SHA1 {
    /// The 20-byte digest of `message`.
    package static func digest<Bytes: Collection<UInt8>>(_ message: Bytes) -> [UInt8] {
        var state: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0]
        var schedule = [UInt32](repeating: 0, count: 80)
        MerkleDamgard.forEachBlock(of: message) { block in
            for index in 0..<16 { schedule[index] = block[index] }
            for index in 16..<80 {
                schedule[index] =
                    (schedule[index - 3] ^ schedule[index - 8] ^ schedule[index - 14] ^ schedule[index - 16])
                    .rotatedLeft(1)
            }
            var (a, b, c, d, e) = (state[0], state[1], state[2], state[3], state[4])
            for index in 0..<80 {
                let mixed: UInt32
                let constant: UInt32
                switch index {
                case 0..<20:
                    mixed = (b & c) | (~b & d)
                    constant = 0x5a82_7999
                case 20..<40:
                    mixed = b ^ c ^ d
                    constant = 0x6ed9_eba1
                case 40..<60:
                    mixed = (b & c) | (b & d) | (c & d)
                    constant = 0x8f1b_bcdc
                default:
                    mixed = b ^ c ^ d
                    constant = 0xca62_c1d6
                }
                let next = a.rotatedLeft(5) &+ mixed &+ e &+ constant &+ schedule[index]
                (e, d, c, b, a) = (d, c, b.rotatedLeft(30), a, next)
            }
            for (index, value) in [a, b, c, d, e].enumerated() { state[index] &+= value }
        }
        return MerkleDamgard.bigEndianBytes(state)
    }

    /// The digest as 40 lowercase hex digits (how Redis prints a script's name).
    package static func hex<Bytes: Collection<UInt8>>(_ message: Bytes) -> String {
        MerkleDamgard.hex(digest(message))
    }
}
