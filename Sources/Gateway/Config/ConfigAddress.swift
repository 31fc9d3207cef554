/// Resolves a host name to an address; injected because name resolution is I/O.
///
/// Called only for names (such as `localhost`), never for IP literals. Returns nil when the
/// name cannot be resolved.
public typealias HostResolver = @Sendable (String) -> IPAddress?

/// A `host:port` address from the configuration, resolved when the configuration was loaded.
public struct ConfigAddress: Sendable, Hashable, CustomStringConvertible {
    /// The host as written, without IPv6 brackets (`127.0.0.1`, `::1`, `localhost`).
    public var host: String
    /// The port; 0 asks the kernel for any free port (listeners only).
    public var port: UInt16
    /// The resolved address.
    public var ip: IPAddress
    /// The address exactly as written, e.g. `127.0.0.1:9001`; the server key in stats.
    public var text: String

    /// Creates an address from its parts.
    public init(host: String, port: UInt16, ip: IPAddress, text: String) {
        self.host = host
        self.port = port
        self.ip = ip
        self.text = text
    }

    /// The address as written.
    public var description: String {
        text
    }

    /// Parses `host:port` (`0.0.0.0:8080`, `[::1]:9001`, `localhost:9001`), calling `resolve` for
    /// names only.
    public static func parse(_ text: String, resolve: HostResolver) -> Result<ConfigAddress, AddressError> {
        let invalid = { (reason: String) in
            Result<ConfigAddress, AddressError>.failure(
                AddressError("invalid address \"\(text)\": \(reason)"))
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                return invalid("missing ']' after the IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return invalid("expected host:port") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return invalid("expected host:port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                return invalid("write IPv6 addresses in brackets, e.g. [::1]:\(portText)")
            }
        }
        guard !host.isEmpty else { return invalid("missing host") }
        guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy(isDigit),
            let portValue = Int(portText), portValue <= 65535
        else {
            return invalid("port must be a number from 0 to 65535")
        }
        let port = UInt16(portValue)
        if text.hasPrefix("[") {
            guard case .some(.v6(let high, let low)) = IPAddress(String(host)) else {
                return invalid("invalid IPv6 address")
            }
            return .success(
                ConfigAddress(host: String(host), port: port, ip: .v6(high: high, low: low), text: text))
        }
        if host.utf8.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            guard case .some(.v4(let value)) = IPAddress(String(host)) else {
                return invalid("invalid IPv4 address")
            }
            return .success(ConfigAddress(host: String(host), port: port, ip: .v4(value), text: text))
        }
        guard isHostName(host) else { return invalid("invalid host name") }
        guard let ip = resolve(String(host)) else {
            return .failure(AddressError("cannot resolve host \"\(host)\""))
        }
        return .success(ConfigAddress(host: String(host), port: port, ip: ip, text: text))
    }

    // RFC 1123 §2.1 host names: dot-separated labels of letters, digits and hyphens, 1...63
    // characters each, not starting or ending with a hyphen. Underscores are tolerated, as
    // resolvers do in practice.
    private static func isHostName(_ host: Substring) -> Bool {
        guard host.utf8.count <= 253 else { return false }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        for (position, label) in labels.enumerated() {
            if label.isEmpty && position == labels.count - 1 && position > 0 {
                continue
            }
            guard (1...63).contains(label.utf8.count), label.utf8.first != UInt8(ascii: "-"),
                label.utf8.last != UInt8(ascii: "-"),
                label.utf8.allSatisfy({
                    isDigit($0) || ($0 | 0x20 >= UInt8(ascii: "a") && $0 | 0x20 <= UInt8(ascii: "z"))
                        || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                })
            else { return false }
        }
        return true
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

/// Why an address could not be parsed or resolved, e.g. `cannot resolve host "foo"`.
public struct AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, ready to follow a json path or a command-line option.
    public var message: String

    /// Creates an error with a message.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String {
        message
    }
}
