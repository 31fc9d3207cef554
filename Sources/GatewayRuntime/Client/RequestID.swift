/// A request id: kept from the client when valid, else 128 random bits as 32 lowercase hex
/// digits.
///
/// Held inline up to 32 bytes (every generated id and most client ids), so giving a request
/// its id allocates nothing; only a longer client id spills to an array.
struct RequestID {
    static let inlineCapacity = 32

    private var inline: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var inlineCount: UInt8 = 0
    private var spill: [UInt8]?

    /// A client-sent id is kept if it is 1–200 bytes of visible ASCII (0x21–0x7E), as README.md
    /// ("How requests are handled") says.
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 200 else { return false }
        for byte in bytes where byte < 0x21 || byte > 0x7e { return false }
        return true
    }

    /// The client's id when it is valid, else nil.
    init?(client bytes: UnsafeRawBufferPointer) {
        guard Self.isValid(bytes) else { return nil }
        if bytes.count <= Self.inlineCapacity {
            withUnsafeMutableBytes(of: &inline) { $0.copyMemory(from: bytes) }
            inlineCount = UInt8(bytes.count)
        } else {
            spill = Array(bytes)
        }
    }

    /// A fresh random id.
    init(using generator: inout FastRandom) {
        var words = (generator.next(), generator.next())
        Swift.withUnsafeBytes(of: &words) { random in
            withUnsafeMutableBytes(of: &inline) { hex in
                for index in 0..<16 {
                    let byte = random[index]
                    hex[2 * index] = Self.hexDigit(byte >> 4)
                    hex[2 * index + 1] = Self.hexDigit(byte & 0xf)
                }
            }
        }
        inlineCount = 32
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 &+ value : 0x57 &+ value  // 0x57 + 10 == "a"
    }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let spill { return spill.withUnsafeBytes(body) }
        var copy = inline
        return Swift.withUnsafeBytes(of: &copy) {
            body(UnsafeRawBufferPointer(rebasing: $0[0..<Int(inlineCount)]))
        }
    }

    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
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
