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

    /// The first attempt's budget: the request's, shortened by the per-try limit (zero: none).
    package static func attemptBudget(request: TimeSpan?, perTry: TimeSpan) -> TimeSpan? {
        guard perTry > .zero else { return request }
        guard let request else { return perTry }
        return min(request, perTry)
    }

    /// An attempt's deadline: the request's, or the attempt's start plus the per-try limit
    /// when that comes first (docs/configuration.md, `perTryTimeoutMs`).
    package static func attemptDeadline(request: Instant?, attemptStart: Instant, perTry: TimeSpan)
        -> Instant?
    {
        guard perTry > .zero else { return request }
        let own = attemptStart + perTry
        guard let request else { return own }
        return min(request, own)
    }

    /// What `X-Request-Timeout-Ms` tells the upstream at `now`: the whole milliseconds left
    /// until `deadline`, rounded up, so an attempt with time left never says 0.
    package static func millisecondsLeft(until deadline: Instant, now: Instant) -> UInt64 {
        UInt64(max(0, (deadline - now).millisecondsRoundedUp))
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
