/// How a message body is delimited (RFC 9112 §6).
public enum BodyFraming: Equatable, Sendable {
    /// No body: neither Content-Length nor Transfer-Encoding (requests), or a response that
    /// cannot have one (HEAD, 1xx, 204, 304).
    case none
    /// Exactly this many bytes. `.contentLength(0)` is kept distinct from `.none` so a writer can
    /// forward `Content-Length: 0` (some servers insist on it for POST).
    case contentLength(UInt64)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// Responses only: the body runs until the connection closes (RFC 9112 §6.3 rule 8).
    case untilClose
}

extension BodyFraming {
    /// True when no body bytes follow the head: `.none` or `.contentLength(0)`.
    @inlinable
    public var isEmpty: Bool {
        switch self {
        case .none: return true
        case .contentLength(let length): return length == 0
        case .chunked, .untilClose: return false
        }
    }
}
