import Glibc

/// An IPv4 or IPv6 socket address (IP + port), stored as the kernel's sockaddr.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Storage: Sendable, Hashable {
        case v4(ip: UInt32, port: UInt16)  // host byte order
        case v6(ip: IPv6Bytes, port: UInt16)
    }

    /// 16 address bytes, network order.
    public struct IPv6Bytes: Sendable, Hashable {
        public var bytes: [UInt8]
        public init(_ bytes: [UInt8]) {
            precondition(bytes.count == 16)
            self.bytes = bytes
        }
    }

    public var storage: Storage

    public init(ipv4: UInt32, port: UInt16) { storage = .v4(ip: ipv4, port: port) }
    public init(ipv6: [UInt8], port: UInt16) { storage = .v6(ip: IPv6Bytes(ipv6), port: port) }

    public var port: UInt16 {
        switch storage {
        case .v4(_, let port), .v6(_, let port): return port
        }
    }

    public var family: Int32 {
        switch storage {
        case .v4: return AF_INET
        case .v6: return AF_INET6
        }
    }

    /// The IP alone as text: "127.0.0.1" or "::1".
    public var ipText: String {
        switch storage {
        case .v4(let ip, _):
            return "\(ip >> 24).\((ip >> 16) & 0xff).\((ip >> 8) & 0xff).\(ip & 0xff)"
        case .v6(let ip, _):
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { dst in
                for i in 0..<16 { dst[i] = ip.bytes[i] }
            }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// "127.0.0.1:8080" or "[::1]:8080".
    public var description: String {
        switch storage {
        case .v4: return "\(ipText):\(port)"
        case .v6: return "[\(ipText)]:\(port)"
        }
    }

    /// Calls `body` with the address as a sockaddr pointer and its length.
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        switch storage {
        case .v4(let ip, let port):
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr = in_addr(s_addr: ip.bigEndian)
            return try withUnsafePointer(to: &addr) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(let ip, let port):
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &addr.sin6_addr) { dst in
                for i in 0..<16 { dst[i] = ip.bytes[i] }
            }
            return try withUnsafePointer(to: &addr) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    try body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }

    /// Decodes a sockaddr filled in by the kernel (accept, getsockname); nil for other families.
    public init?(_ storage: UnsafePointer<sockaddr_storage>) {
        switch Int32(storage.pointee.ss_family) {
        case AF_INET:
            let addr = UnsafeRawPointer(storage).load(as: sockaddr_in.self)
            self.init(ipv4: UInt32(bigEndian: addr.sin_addr.s_addr), port: UInt16(bigEndian: addr.sin_port))
        case AF_INET6:
            let addr = UnsafeRawPointer(storage).load(as: sockaddr_in6.self)
            let bytes = withUnsafeBytes(of: addr.sin6_addr) { Array($0) }
            // An IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is reported as the IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
                let ip =
                    UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8
                    | UInt32(bytes[15])
                self.init(ipv4: ip, port: UInt16(bigEndian: addr.sin6_port))
            } else {
                self.init(ipv6: bytes, port: UInt16(bigEndian: addr.sin6_port))
            }
        default:
            return nil
        }
    }
}
