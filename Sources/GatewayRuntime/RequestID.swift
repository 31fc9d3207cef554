/// Request ids: kept from the client when valid, else 128 random bits as 32 lowercase hex digits.
enum RequestID {
    /// A client-sent id is kept if it is 1–200 bytes of visible ASCII (0x21–0x7E), SPEC section 4.
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 200 else { return false }
        for byte in bytes where byte < 0x21 || byte > 0x7e { return false }
        return true
    }

    /// Two hex digits per byte value, so each byte of randomness costs one table load.
    private static let hexPairs: [UInt16] = (0..<256).map { value in
        let digits = Array("0123456789abcdef".utf8)
        return UInt16(digits[value >> 4]) | UInt16(digits[value & 0xf]) << 8
    }

    /// Appends a fresh random id to `out`.
    static func generate<G: RandomNumberGenerator>(using generator: inout G, into out: inout [UInt8]) {
        var words = (generator.next(), generator.next())
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeBytes(of: &words) { random in
            withUnsafeMutableBytes(of: &text) { hex in
                hexPairs.withUnsafeBufferPointer { pairs in
                    for index in 0..<16 {
                        let pair = pairs[Int(random[index])]
                        hex[2 * index] = UInt8(truncatingIfNeeded: pair)
                        hex[2 * index + 1] = UInt8(truncatingIfNeeded: pair >> 8)
                    }
                }
            }
        }
        withUnsafeBytes(of: &text) { out.append(contentsOf: $0) }
    }
}

/// A fast per-loop generator for request ids (xoshiro256**), seeded from the system.
struct FastRandom: RandomNumberGenerator {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        s0 = system.next()
        s1 = system.next()
        s2 = system.next()
        s3 = system.next() | 1
    }

    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }
}
