import Gateway

/// The JSON body of a gateway-made error: `{"error":"<code>","message":"<text>","requestId":"<id>"}`.
enum GatewayErrorBody {
    static func make(_ error: ProxyError, requestID: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + error.message.utf8.count + requestID.count)
        out.append(contentsOf: #"{"error":""#.utf8)
        out.append(contentsOf: error.code.utf8)
        out.append(contentsOf: #"","message":"#.utf8)
        JSONText.appendString(error.message.utf8, to: &out, htmlSafe: true)
        out.append(contentsOf: #","requestId":"#.utf8)
        JSONText.appendString(requestID, to: &out, htmlSafe: true)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// Minimal JSON string escaping for bodies and log lines built as bytes.
enum JSONText {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `bytes` as a quoted JSON string; control characters, quotes and backslashes
    /// are escaped, and so is every byte >= 0x80 (as \u00XX), since request data need not be
    /// UTF-8. `htmlSafe` escapes `<`, `>` and `&` too, for bodies a browser may be shown.
    static func appendString<C: Collection<UInt8>>(
        _ bytes: C, to out: inout [UInt8], htmlSafe: Bool = false
    ) {
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "<"), UInt8(ascii: ">"),
                UInt8(ascii: "&") where htmlSafe:
                // A client may send a valid X-Request-Id such as `<svg/onload=...>`: escaped,
                // no markup reaches an error body even if something renders it as HTML.
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            case 0x0a: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0d: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20, 0x7f:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            case 0x80...:
                // Request data is not guaranteed UTF-8; escape high bytes so every line stays valid JSON.
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
