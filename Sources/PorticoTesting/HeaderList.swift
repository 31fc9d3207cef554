/// Case-insensitive lookups over header fields kept as an ordered list of name/value pairs.
enum HeaderList {
    /// Every value of fields named `name` (ASCII case-insensitive), in order of appearance.
    static func values(_ name: String, in fields: [(String, String)]) -> [String] {
        let wanted = lowercased(name)
        return fields.filter { lowercased($0.0) == wanted }.map(\.1)
    }

    /// The first value of a field named `name`, or nil.
    static func first(_ name: String, in fields: [(String, String)]) -> String? {
        let wanted = lowercased(name)
        return fields.first { lowercased($0.0) == wanted }?.1
    }

    /// Whether a comma-separated field named `name` lists `token` (case-insensitive).
    static func contains(token: String, in name: String, of fields: [(String, String)]) -> Bool {
        let wanted = lowercased(token)
        return values(name, in: fields).contains { value in
            value.split(separator: ",").contains { lowercased(trimmed($0)) == wanted }
        }
    }

    /// ASCII lowercase, as field names are case-insensitive (RFC 9110 section 5.1).
    static func lowercased(_ text: some StringProtocol) -> String {
        String(
            decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 },
            as: UTF8.self)
    }

    /// `text` without leading and trailing spaces and tabs (optional whitespace, RFC 9110 5.6.3).
    static func trimmed(_ text: some StringProtocol) -> String {
        let bytes = Array(text.utf8)
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
            let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
