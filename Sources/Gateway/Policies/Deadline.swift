/// A request's deadline (docs/configuration.md, `timeoutMs`): its arithmetic in one place.
package enum RequestDeadline {
    /// The request's time budget: the route's timeout, shortened (never lengthened) by a
    /// client's `X-Request-Timeout-Ms`; nil when there is none (a route timeout of zero and
    /// no valid header).
    package static func budget(routeTimeout: TimeSpan, clientHeader: UnsafeRawBufferPointer?) -> TimeSpan? {
        let route = routeTimeout > .zero ? routeTimeout : nil
        guard let header = clientHeader, let asked = positiveMilliseconds(header) else { return route }
        let span = TimeSpan.milliseconds(asked)
        if let route { return min(route, span) }
        return span
    }

    /// A positive decimal integer (no sign, no spaces, at most 12 digits); nil for anything else.
    package static func positiveMilliseconds(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 12 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value > 0 ? value : nil
    }
}
