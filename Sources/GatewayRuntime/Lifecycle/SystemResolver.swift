import Gateway
import Glibc

/// Resolves host names with getaddrinfo when the configuration is loaded (never per request).
package enum SystemResolver {
    /// The first IPv4 (preferred) or IPv6 address of `host`, or nil.
    @Sendable package static func resolve(_ host: String) -> IPAddress? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(first) }
        var fallback: IPAddress?
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let addr = current.pointee.ai_addr {
                if current.pointee.ai_family == AF_INET {
                    let v4 = UnsafeRawPointer(addr).load(as: sockaddr_in.self)
                    return .v4(UInt32(bigEndian: v4.sin_addr.s_addr))
                }
                if current.pointee.ai_family == AF_INET6 && fallback == nil {
                    let v6 = UnsafeRawPointer(addr).load(as: sockaddr_in6.self)
                    fallback = IPAddress(octets16: withUnsafeBytes(of: v6.sin6_addr) { Array($0) })
                }
            }
            entry = current.pointee.ai_next
        }
        return fallback
    }
}
