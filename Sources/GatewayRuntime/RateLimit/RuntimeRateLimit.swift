import Gateway
import HTTP1

/// A route's rate limit as the runtime uses it: its bucket store and the bytes of the
/// response fields that never change (docs/configuration.md, "Rate limiting").
final class RuntimeRateLimit: Sendable {
    let config: RateLimitConfig
    let store: any RateLimitStore
    /// The header a `header:<Name>` limit is keyed on, lowercased; nil for the other keys.
    let headerName: [UInt8]?
    /// `RateLimit-Limit` and `RateLimit-Policy`, the same on every response of the route.
    private let fixedFields: [UInt8]
    /// `RateLimit: "<route>";r=`, completed per response.
    private let draftPrefix: [UInt8]

    init(route: String, config: RateLimitConfig, store: any RateLimitStore) {
        self.config = config
        self.store = store
        if case .header(let name) = config.key {
            headerName = Array(name.lowercased().utf8)
        } else {
            headerName = nil
        }
        let gcra = GCRA(requestsPerSecond: config.requestsPerSecond, burst: config.burst)
        // Route names are tokens (docs/configuration.md, "routes[]"): safe in a quoted string.
        fixedFields = Array(
            "RateLimit-Limit: \(config.burst)\r\nRateLimit-Policy: \"\(route)\";q=\(config.burst);w=\(gcra.windowSeconds)\r\n"
                .utf8)
        draftPrefix = Array("RateLimit: \"\(route)\";r=".utf8)
    }

    /// Appends the RateLimit fields for `decision` (SPEC-style and the IETF draft's).
    func writeFields(_ decision: RateLimitDecision, into out: inout HeadWriter) {
        let remaining = UInt64(max(0, decision.remaining))
        let reset = decision.resetSeconds
        out.append(fixedFields)
        out.field("RateLimit-Remaining", decimal: remaining)
        out.field("RateLimit-Reset", decimal: reset)
        out.append(draftPrefix)
        out.appendDecimal(remaining)
        out.append(";t=")
        out.appendDecimal(reset)
        out.appendCRLF()
    }

    /// Whether `name` is one of the fields `writeFields` writes (any case).
    static func isRateLimitField(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count >= 9, name[0] | 0x20 == UInt8(ascii: "r") else { return false }
        return FieldList.equalsIgnoringCase(name, "ratelimit")
            || FieldList.equalsIgnoringCase(name, "ratelimit-limit")
            || FieldList.equalsIgnoringCase(name, "ratelimit-remaining")
            || FieldList.equalsIgnoringCase(name, "ratelimit-reset")
            || FieldList.equalsIgnoringCase(name, "ratelimit-policy")
    }

    /// The fields as bytes, for gateway-made responses; with `Retry-After` for a refusal.
    func fieldBytes(_ decision: RateLimitDecision) -> [UInt8] {
        var out = HeadWriter(capacity: 256)
        if !decision.admitted && !config.dryRun {
            out.field("Retry-After", decimal: decision.retryAfterSeconds)
        }
        writeFields(decision, into: &out)
        return Array(out.bytes)
    }
}
