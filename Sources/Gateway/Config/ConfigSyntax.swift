import HTTP1

/// Lexical checks shared by the configuration decoders.
enum ConfigSyntax {
    /// RFC 9110 §5.6.2: token = 1*tchar.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(isTokenCharacter)
    }

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// RFC 9110 §5.5: no control characters except HTAB, and no leading or trailing whitespace.
    static func isFieldValue(_ text: String) -> Bool {
        let bytes = text.utf8
        if let first = bytes.first, first == 0x20 || first == 0x09 {
            return false
        }
        if let last = bytes.last, last == 0x20 || last == 0x09 {
            return false
        }
        return bytes.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    /// Printable ASCII without spaces (0x21...0x7E).
    static func isVisibleASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    /// Route and upstream names: they appear in stats keys, metric labels and `RateLimit` fields,
    /// so they are kept to characters none of those need to escape.
    static func nameProblem(_ name: String) -> String? {
        let allowed = name.utf8.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                || $0 == UInt8(ascii: ".")
        }
        guard !name.isEmpty, name.utf8.count <= 128, allowed else {
            return "must be 1 to 128 letters, digits, '-', '_' or '.'"
        }
        return nil
    }

    /// Why `path` cannot be a route path, prefix, rewrite or probe path: it must look like a
    /// normalized origin-form path (README.md, "Strict parsing"), or no request could ever match it.
    static func pathProblem(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return "must start with '/'" }
        guard isVisibleASCII(path) else { return "must contain only visible ASCII characters" }
        guard !path.contains("?") && !path.contains("#") else { return "must not contain '?' or '#'" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0 == "." || $0 == ".." }) else {
            return "must not contain '.' or '..' segments"
        }
        return nil
    }

    /// A route's host condition: `api.example.com`, `*.example.com` or `[::1]`, lowercased.
    static func hostPattern(_ text: String) -> HostPattern? {
        let lowered = ASCII.lowercased(text)
        if lowered.hasPrefix("*.") {
            let domain = String(lowered.dropFirst(2))
            return isDomain(domain) ? .wildcard(domain: domain) : nil
        }
        if lowered.hasPrefix("[") && lowered.hasSuffix("]") {
            let inner = String(lowered.dropFirst().dropLast())
            guard case .some(.v6) = IPAddress(inner) else { return nil }
            return .exact(lowered)
        }
        return isDomain(lowered) ? .exact(lowered) : nil
    }

    /// `host[:port]` as allowed in a Host field (RFC 9110 §7.2), for `hostRewrite`.
    static func isHostField(_ text: String) -> Bool {
        var host = Substring(text)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]"),
                case .some(.v6) = IPAddress(String(host[host.index(after: host.startIndex)..<close]))
            else { return false }
            host = host[host.index(after: close)...]
            return host.isEmpty || isPort(host.dropFirst()) && host.hasPrefix(":")
        }
        if let colon = host.firstIndex(of: ":") {
            guard isPort(host[host.index(after: colon)...]) else { return false }
            host = host[..<colon]
        }
        return isDomain(ASCII.lowercased(String(host)))
    }

    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 5 && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
            && Int(text).map { $0 <= 65535 } == true
    }

    // Host names (and IPv4 literals) as a Host field carries them: dot-separated non-empty labels
    // of letters, digits, '-' and '_'.
    private static func isDomain(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return !text.isEmpty && text.utf8.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty
                    && label.utf8.allSatisfy {
                        isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
                    }
            }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return false
        }
    }

    /// Joins choices for a message: `a, b or c`.
    static func choices(_ values: [String]) -> String {
        guard values.count > 1 else { return values.first ?? "" }
        return values.dropLast().joined(separator: ", ") + " or " + values[values.count - 1]
    }
}
