extension RequestTarget {
    /// True when `bytes` is a valid `host[:port]` for Host or an absolute-form authority.
    ///
    /// host is an IP literal `[IPv6]` or a name made of letters, digits, `-`, `.`, `_`, `~` and
    /// `%HH` escapes (RFC 3986 reg-name without the sub-delims, which real host names never use
    /// and which would let `,` or `;` reach list-parsed fields like X-Forwarded-Host). IPv4
    /// addresses are names by this rule. The port, when present, is 1-5 digits up to 65535.
    /// Empty input, userinfo (`@`), '/', whitespace and an empty host or port are refused.
    public static func isValidHost(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let n = bytes.count
        guard n > 0 else { return false }
        var i = 0
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            guard isValidIPv6(UnsafeRawBufferPointer(rebasing: bytes[1..<close])) else { return false }
            i = close + 1
        } else {
            while i < n {
                let b = bytes[i]
                if isNameByte(b) {
                    i += 1
                } else if b == UInt8(ascii: "%"), i + 2 < n, ByteClass.hexValue(bytes[i + 1]) != nil,
                    ByteClass.hexValue(bytes[i + 2]) != nil
                {
                    i += 3
                } else {
                    break
                }
            }
            guard i > 0 else { return false }
        }
        if i == n { return true }
        guard bytes[i] == UInt8(ascii: ":") else { return false }
        return isValidPort(UnsafeRawBufferPointer(rebasing: bytes[(i + 1)...]))
    }

    /// Convenience for byte arrays; see `isValidHost(_:)`.
    public static func isValidHost(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isValidHost($0) }
    }

    /// The host of a valid `host[:port]` lowercased (ASCII) without the port, for routing:
    /// `Example.COM:8080` → `example.com`, `[::1]:80` → `[::1]`.
    public static func lowercasedHostWithoutPort(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var end = bytes.count
        if bytes.first == UInt8(ascii: "[") {
            if let close = bytes.firstIndex(of: UInt8(ascii: "]")) { end = close + 1 }
        } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            end = colon
        }
        var out = [UInt8](repeating: 0, count: end)
        for i in 0..<end { out[i] = ASCII.lowercase(bytes[i]) }
        return out
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        let lower = b | 0x20
        return (lower &- 0x61 < 26) || ByteClass.isDigit(b) || b == UInt8(ascii: "-")
            || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
    }

    private static func isValidPort(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 1 && bytes.count <= 5 else { return false }
        var value = 0
        for b in bytes {
            guard ByteClass.isDigit(b) else { return false }
            value = value * 10 + Int(b &- 0x30)
        }
        return value <= 65535
    }

    /// RFC 3986 §3.2.2 IPv6address: up to eight 1-4 digit hex groups, at most one "::", and an
    /// optional dotted IPv4 tail counting as two groups. Zone identifiers are not accepted.
    static func isValidIPv6(_ s: UnsafeRawBufferPointer) -> Bool {
        let n = s.count
        guard n >= 2 else { return false }
        var i = 0
        var groups = 0
        var compressed = false
        if s[0] == UInt8(ascii: ":") {
            guard s[1] == UInt8(ascii: ":") else { return false }
            compressed = true
            i = 2
        }
        while i < n {
            let start = i
            while i < n && i - start < 5 && ByteClass.hexValue(s[i]) != nil { i += 1 }
            if i < n && s[i] == UInt8(ascii: ".") {
                guard isValidIPv4(UnsafeRawBufferPointer(rebasing: s[start..<n])) else { return false }
                groups += 2
                i = n
                break
            }
            let length = i - start
            guard length >= 1 && length <= 4 else { return false }
            groups += 1
            if i == n { break }
            guard s[i] == UInt8(ascii: ":") else { return false }
            i += 1
            if i < n && s[i] == UInt8(ascii: ":") {
                guard !compressed else { return false }
                compressed = true
                i += 1
            } else if i == n {
                return false
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }

    /// Four dec-octets 0-255 without leading zeros (RFC 3986 §3.2.2).
    static func isValidIPv4(_ s: UnsafeRawBufferPointer) -> Bool {
        var octets = 0
        var i = 0
        let n = s.count
        while true {
            let start = i
            var value = 0
            while i < n && i - start < 4 && ByteClass.isDigit(s[i]) {
                value = value * 10 + Int(s[i] &- 0x30)
                i += 1
            }
            let length = i - start
            guard length >= 1 && length <= 3 && value <= 255 else { return false }
            guard length == 1 || s[start] != UInt8(ascii: "0") else { return false }
            octets += 1
            if i == n { return octets == 4 }
            guard octets < 4, s[i] == UInt8(ascii: ".") else { return false }
            i += 1
        }
    }
}
