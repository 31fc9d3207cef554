import Gateway
import HTTP1

/// A route's rate limit as the runtime uses it: its bucket store and the bytes of the
/// response fields that never change (docs/configuration.md, "Rate limiting").
final class RuntimeRateLimit: Sendable {
    let config: RateLimitConfig
    let store: any RateLimitStore
    /// The cluster-wide limiter when `scope` is `cluster` (then `store` is unused).
    let cluster: ClusterRateLimiter?
    /// What the buckets are keyed on, without the header name (no reference to copy).
    let keyKind: KeyKind
    /// `config.dryRun`, read per request.
    let isDryRun: Bool

    enum KeyKind {
        case clientIP
        case global
        case header
    }
    /// The header a `header:<Name>` limit is keyed on, lowercased; nil for the other keys.
    let headerName: [UInt8]?
    /// `RateLimit-Limit` and `RateLimit-Policy`, the same on every response of the route,
    /// then the name of `RateLimit-Remaining`.
    private let fixedFields: [UInt8]
    /// `RateLimit: "<route>";r=`, completed per response.
    private let draftPrefix: [UInt8]
    /// A refusal's status line and fields that never change, and its body up to the request id.
    private let refusalHead: [UInt8]
    private let refusalBodyPrefix: [UInt8]
    private static let refusalBodySuffix: StaticString = "\"}"
    static let refusal = ProxyError(.rateLimited, "the route's rate limit is reached")

    init(route: String, config: RateLimitConfig, store: any RateLimitStore, cluster: ClusterRateLimiter?) {
        self.config = config
        self.store = store
        self.cluster = cluster
        isDryRun = config.dryRun
        switch config.key {
        case .clientIP:
            keyKind = .clientIP
            headerName = nil
        case .global:
            keyKind = .global
            headerName = nil
        case .header(let name):
            keyKind = .header
            headerName = Array(name.lowercased().utf8)
        }
        let gcra = GCRA(requestsPerSecond: config.requestsPerSecond, burst: config.burst)
        // Route names are tokens (docs/configuration.md, "routes[]"): safe in a quoted string.
        fixedFields = Array(
            "RateLimit-Limit: \(config.burst)\r\nRateLimit-Policy: \"\(route)\";q=\(config.burst);w=\(gcra.windowSeconds)\r\nRateLimit-Remaining: "
                .utf8)
        draftPrefix = Array("\r\nRateLimit: \"\(route)\";r=".utf8)
        refusalHead =
            Array(
                "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nVia: 1.1 portico\r\n"
                    .utf8)
            + Array("X-Gateway-Error: \(Self.refusal.code)\r\n".utf8)
        // The body `GatewayErrorBody` makes, written here in parts (the message needs no escaping).
        refusalBodyPrefix = Array(
            #"{"error":"\#(Self.refusal.code)","message":"\#(Self.refusal.message)","requestId":""#.utf8)
    }

    /// Writes the whole 429 for a refused request (the response `GatewayErrorBody` and
    /// `ClientConnection.writeResponse` would make, with the RateLimit fields and
    /// `Retry-After`), built from bytes prepared once: a refusal costs less than a proxied
    /// request. Returns the body bytes written, or nil (nothing written) when the request id
    /// needs JSON escaping and the general path must answer.
    func writeRefusal(
        _ decision: RateLimitDecision, requestID: borrowing RequestID, date: [UInt8], headOnly: Bool,
        connection: StaticString?, into out: inout HeadWriter
    ) -> Int? {
        let plain = requestID.withUnsafeBytes { id in
            !id.contains(where: Self.needsEscaping)
        }
        guard plain else { return nil }
        let idCount = requestID.withUnsafeBytes { $0.count }
        let bodyCount = refusalBodyPrefix.count + idCount + Self.refusalBodySuffix.utf8CodeUnitCount
        out.append(refusalHead)
        out.field("Date", date)
        out.field("Content-Length", decimal: UInt64(bodyCount))
        requestID.withUnsafeBytes { out.field("X-Request-Id", $0) }
        out.field("Retry-After", decimal: decision.retryAfterSeconds)
        writeFields(decision, into: &out)
        if let connection { out.field("Connection", connection) }
        out.endOfHead()
        guard !headOnly else { return 0 }
        out.append(refusalBodyPrefix)
        requestID.withUnsafeBytes { out.append($0) }
        out.append(Self.refusalBodySuffix)
        return bodyCount
    }

    /// Bytes of a (valid, visible-ASCII) request id that `JSONText` escapes in an error body.
    @inline(__always)
    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "<")
            || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "&")
    }

    /// Appends the RateLimit fields for `decision` (SPEC-style and the IETF draft's).
    func writeFields(_ decision: RateLimitDecision, into out: inout HeadWriter) {
        let remaining = UInt64(max(0, decision.remaining))
        let reset = decision.resetSeconds
        out.append(fixedFields)
        out.appendDecimal(remaining)
        out.append("\r\nRateLimit-Reset: ")
        out.appendDecimal(reset)
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
