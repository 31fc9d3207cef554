/// Deadline arithmetic for one request (docs/configuration.md, `timeoutMs`), in milliseconds relative to "now".
public enum DeadlineMath {
    /// The request's budget in milliseconds: the route timeout, shortened (never lengthened)
    /// by a client's `X-Request-Timeout-Ms`; nil when there is no deadline.
    public static func budgetMilliseconds(routeTimeoutMs: Int, clientHeader: UnsafeRawBufferPointer?) -> Int?
    {
        let route = routeTimeoutMs > 0 ? routeTimeoutMs : nil
        guard let header = clientHeader, let asked = positiveInteger(header) else { return route }
        if let route { return min(route, asked) }
        return asked
    }

    /// Parses a positive decimal integer (no sign, no spaces); nil for anything else.
    public static func positiveInteger(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 12 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value > 0 ? value : nil
    }
}
