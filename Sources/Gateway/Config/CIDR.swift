/// An IP network such as `10.0.0.0/8` or `::1/128`, used for a listener's `trustedProxies`.
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    /// The network address, with every bit beyond the prefix cleared.
    public let network: IPAddress
    /// Number of leading bits that must match: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// Creates a network from any address in it; bits beyond `prefixLength` are cleared.
    public init?(network: IPAddress, prefixLength: Int) {
        switch network {
        case .v4(let value):
            guard (0...32).contains(prefixLength) else { return nil }
            self.network = .v4(value & CIDR.mask32(prefixLength))
        case .v6(let high, let low):
            guard (0...128).contains(prefixLength) else { return nil }
            let (highMask, lowMask) = CIDR.mask128(prefixLength)
            self.network = .v6(high: high & highMask, low: low & lowMask)
        }
        self.prefixLength = prefixLength
    }

    /// Parses `address/length`; a plain address means a single host (/32 or /128). Host bits set
    /// beyond the prefix (`10.0.0.1/8`) are cleared, as nginx and Go do.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        var length: Int
        switch address {
        case .v4: length = 32
        case .v6: length = 128
        }
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 3, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let parsed = Int(digits)
            else { return nil }
            length = parsed
        }
        self.init(network: address, prefixLength: length)
    }

    /// Whether `address` lies in this network. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, as a
    /// dual-stack listener reports IPv4 peers) is compared as the IPv4 address it carries.
    public func contains(_ address: IPAddress) -> Bool {
        switch (network, address) {
        case (.v4(let networkValue), .v4(let value)):
            return value & CIDR.mask32(prefixLength) == networkValue
        case (.v4(let networkValue), .v6):
            guard let mapped = address.mappedIPv4 else { return false }
            return mapped & CIDR.mask32(prefixLength) == networkValue
        case (.v6(let networkHigh, let networkLow), .v6(let high, let low)):
            let (highMask, lowMask) = CIDR.mask128(prefixLength)
            return high & highMask == networkHigh && low & lowMask == networkLow
        case (.v6, .v4(let value)):
            return contains(.v6(high: 0, low: 0xFFFF_0000_0000 | UInt64(value)))
        }
    }

    /// `network/prefixLength`, e.g. `10.0.0.0/8`.
    public var description: String {
        "\(network)/\(prefixLength)"
    }

    private static func mask32(_ length: Int) -> UInt32 {
        length == 0 ? 0 : UInt32.max << (32 - length)
    }

    private static func mask128(_ length: Int) -> (UInt64, UInt64) {
        if length <= 64 {
            return (length == 0 ? 0 : UInt64.max << (64 - length), 0)
        }
        return (UInt64.max, length == 128 ? UInt64.max : UInt64.max << (128 - length))
    }
}
