/// ASCII helpers on bytes, shared by the codec, the gateway's configuration and routing, and
/// the runtime: field names, hosts and header-rule names compare case-insensitively
/// (RFC 9110 §5.1), by ASCII letters only.
package enum ASCII {
    package static let slash = UInt8(ascii: "/")

    /// `byte` lowercased when it is 'A'...'Z'; every other byte unchanged.
    @inline(__always)
    package static func lowercase(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    /// `bytes` with their ASCII letters lowercased.
    package static func lowercased<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        bytes.map(lowercase)
    }

    /// `text` with its ASCII letters lowercased (other characters unchanged).
    package static func lowercased(_ text: String) -> String {
        String(decoding: text.utf8.map(lowercase), as: UTF8.self)
    }

    /// Whether two byte strings are equal ignoring ASCII case.
    package static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where lowercase(a[i]) != lowercase(b[i]) { return false }
        return true
    }

    package static func equalsIgnoringCase(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        b.withUnsafeBytes { equalsIgnoringCase(a, $0) }
    }
}
