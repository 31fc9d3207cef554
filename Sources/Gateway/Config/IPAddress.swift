/// An IPv4 or IPv6 address, parsed from its text form without any name resolution.
///
/// IPv4 is held in host byte order; IPv6 as two 64-bit halves, most significant first (the
/// first eight bytes of the network-order address are `high`).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address in host byte order (`10.0.0.1` is `0x0A00_0001`).
    case v4(UInt32)
    /// An IPv6 address as two big-endian halves: `high` holds the first eight bytes.
    case v6(high: UInt64, low: UInt64)

    /// Parses dotted-quad IPv4 (`10.0.0.1`) or IPv6 text (`::1`, `2001:db8::8:1`,
    /// `::ffff:10.0.0.1`); no brackets, zones or leading zeros in IPv4 parts.
    public init?(_ text: String) {
        var text = text
        guard let address = text.withUTF8({ IPAddress(bytes: UnsafeRawBufferPointer($0)) }) else {
            return nil
        }
        self = address
    }

    /// Parses an address from bytes, e.g. one entry of an `X-Forwarded-For` field; allocates nothing.
    public init?(bytes: UnsafeRawBufferPointer) {
        if bytes.contains(UInt8(ascii: ":")) {
            guard let (high, low) = IPAddress.parseIPv6(bytes) else { return nil }
            self = .v6(high: high, low: low)
        } else {
            guard let value = IPAddress.parseIPv4(bytes, from: 0, to: bytes.count) else { return nil }
            self = .v4(value)
        }
    }

    /// True for 127.0.0.0/8, `::1` and IPv4-mapped loopback addresses.
    public var isLoopback: Bool {
        switch self {
        case .v4(let value):
            return value >> 24 == 127
        case .v6(let high, let low):
            if high == 0 && low == 1 {
                return true
            }
            if let mapped = mappedIPv4 {
                return mapped >> 24 == 127
            }
            return false
        }
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else nil.
    public var mappedIPv4: UInt32? {
        guard case .v6(let high, let low) = self, high == 0, low >> 32 == 0xFFFF else { return nil }
        return UInt32(truncatingIfNeeded: low)
    }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var octets: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// Dotted-quad IPv4, or IPv6 in the RFC 5952 canonical form (lowercase, longest zero run
    /// compressed, IPv4-mapped addresses with a dotted tail).
    public var description: String {
        switch self {
        case .v4(let value):
            return IPAddress.dotted(value)
        case .v6(let high, let low):
            if let mapped = mappedIPv4 {
                return "::ffff:" + IPAddress.dotted(mapped)
            }
            let groups =
                (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            return IPAddress.canonicalIPv6(groups)
        }
    }

    private static func dotted(_ value: UInt32) -> String {
        (0..<4).map { String(UInt8(truncatingIfNeeded: value >> (24 - 8 * $0))) }.joined(separator: ".")
    }

    // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first one on a tie.
    private static func canonicalIPv6(_ groups: [UInt16]) -> String {
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for index in 0...groups.count {
            if index < groups.count && groups[index] == 0 {
                if runStart < 0 {
                    runStart = index
                }
                continue
            }
            if runStart >= 0 && index - runStart > bestLength && index - runStart >= 2 {
                bestStart = runStart
                bestLength = index - runStart
            }
            runStart = -1
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestStart < 0 {
            return hex.joined(separator: ":")
        }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }

    // Exactly four decimal parts of 0...255; leading zeros are refused because some parsers read
    // them as octal.
    static func parseIPv4(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var index = start
        while true {
            var part: UInt32 = 0
            var digits = 0
            let partStart = index
            while index < end, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                part = part * 10 + UInt32(bytes[index] - UInt8(ascii: "0"))
                digits += 1
                index += 1
                if digits > 3 {
                    return nil
                }
            }
            if digits == 0 || part > 255 || (digits > 1 && bytes[partStart] == UInt8(ascii: "0")) {
                return nil
            }
            value = value << 8 | part
            parts += 1
            if parts == 4 {
                return index == end ? value : nil
            }
            guard index < end, bytes[index] == UInt8(ascii: ".") else { return nil }
            index += 1
        }
    }

    // RFC 4291 §2.2: eight hex groups, one `::` standing for one or more zero groups, and an
    // optional dotted IPv4 tail in place of the last two groups.
    private static func parseIPv6(_ bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64)? {
        let end = bytes.count
        var head = SIMD8<UInt16>()
        var headCount = 0
        var tail = SIMD8<UInt16>()
        var tailCount = 0
        var compressed = false
        var index = 0
        if end >= 2 && bytes[0] == UInt8(ascii: ":") && bytes[1] == UInt8(ascii: ":") {
            compressed = true
            index = 2
        } else if end == 0 || bytes[0] == UInt8(ascii: ":") {
            return nil
        }
        func append(_ group: UInt16) -> Bool {
            guard headCount + tailCount < 8 else { return false }
            if compressed {
                tail[tailCount] = group
                tailCount += 1
            } else {
                head[headCount] = group
                headCount += 1
            }
            return true
        }
        while index < end {
            var tokenEnd = index
            var sawDot = false
            while tokenEnd < end && bytes[tokenEnd] != UInt8(ascii: ":") {
                if bytes[tokenEnd] == UInt8(ascii: ".") {
                    sawDot = true
                }
                tokenEnd += 1
            }
            if sawDot {
                guard tokenEnd == end, let v4 = parseIPv4(bytes, from: index, to: tokenEnd),
                    append(UInt16(truncatingIfNeeded: v4 >> 16)), append(UInt16(truncatingIfNeeded: v4))
                else { return nil }
                index = end
                break
            }
            guard tokenEnd - index >= 1, tokenEnd - index <= 4 else { return nil }
            var group: UInt16 = 0
            for position in index..<tokenEnd {
                guard let digit = hexDigit(bytes[position]) else { return nil }
                group = group << 4 | UInt16(digit)
            }
            guard append(group) else { return nil }
            index = tokenEnd
            if index == end {
                break
            }
            if index + 1 < end && bytes[index + 1] == UInt8(ascii: ":") {
                guard !compressed else { return nil }
                compressed = true
                index += 2
            } else {
                index += 1
                guard index < end else { return nil }
            }
        }
        let count = headCount + tailCount
        guard compressed ? count <= 7 : count == 8 else { return nil }
        var groups = SIMD8<UInt16>()
        for position in 0..<headCount {
            groups[position] = head[position]
        }
        for position in 0..<tailCount {
            groups[8 - tailCount + position] = tail[position]
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for position in 0..<4 {
            high = high << 16 | UInt64(groups[position])
            low = low << 16 | UInt64(groups[position + 4])
        }
        return (high, low)
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
