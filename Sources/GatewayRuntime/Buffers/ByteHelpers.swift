import HTTP1

/// Byte-level helpers for the hot path (no String).
enum Bytes {
    /// Calls `body` with each comma-separated element of a list field value, trimmed of
    /// spaces and tabs (RFC 9110 §5.6.1), skipping empty elements.
    static func forEachListElement(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void)
    {
        var start = 0
        let count = value.count
        while start <= count {
            var end = start
            while end < count && value[end] != UInt8(ascii: ",") { end += 1 }
            var s = start
            var e = end
            while s < e && (value[s] == 0x20 || value[s] == 0x09) { s += 1 }
            while e > s && (value[e - 1] == 0x20 || value[e - 1] == 0x09) { e -= 1 }
            if e > s { body(UnsafeRawBufferPointer(rebasing: value[s..<e])) }
            start = end + 1
        }
    }

    /// Whether `name` is listed in one of the head's Connection fields (RFC 9110 §7.6.1).
    static func isListedInConnection(
        _ name: UnsafeRawBufferPointer, _ fields: [HeaderField], _ bytes: UnsafeRawBufferPointer
    ) -> Bool {
        var listed = false
        for field in fields where field.known == .connection {
            forEachListElement(field.value.bytes(in: bytes)) { token in
                if !listed && ASCII.equalsIgnoringCase(name, token) { listed = true }
            }
        }
        return listed
    }
}
