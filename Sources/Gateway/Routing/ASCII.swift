/// Byte-level ASCII helpers for matching on request bytes.
enum ASCII {
    static let slash = UInt8(ascii: "/")

    @inline(__always)
    static func lowercase(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    /// `bytes` as ASCII-lowercased bytes.
    static func lowercased<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        bytes.map(lowercase)
    }
}
