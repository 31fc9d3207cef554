/// A parsed response head: the status line, the field lines as spans, and framing facts.
///
/// Spans point into the buffer the parser was fed; the head does not own bytes.
public struct ResponseHead: Equatable, Sendable {
    /// The protocol version: 1.0 or 1.1 (1.x with x > 1 becomes 1.1).
    public var version: HTTPVersion
    /// The status code, 100...599.
    public var status: Int
    /// The reason phrase (may be empty).
    public var reason: ByteSpan
    /// Every field line in order, with OWS trimmed from values; whitespace before a colon is not
    /// part of the name, and folded values are marked `needsUnfolding` (RFC 9112 §5.1, §5.2).
    public var fields: [HeaderField]
    /// `Connection` lists `close`.
    public var connectionClose: Bool
    /// `Connection` lists `keep-alive`.
    public var connectionKeepAlive: Bool
    /// `Connection` lists a token other than `close`, `keep-alive` and `upgrade`: a field a
    /// proxy must drop by name (RFC 9110 §7.6.1). Without it, no field needs checking against
    /// the list, since the fields those three name are hop-by-hop anyway.
    public var connectionNamesOthers: Bool
    /// The Content-Length value, if one was sent (all copies agree).
    public var contentLength: UInt64?
    /// `Transfer-Encoding: chunked` was sent (the only coding accepted).
    public var isChunked: Bool
    /// Bytes of the head from offset 0 through the blank line; the body starts here.
    public var headLength: Int

    /// Creates a head from its parts (the parser fills every field).
    public init(
        version: HTTPVersion, status: Int, reason: ByteSpan, fields: [HeaderField],
        connectionClose: Bool, connectionKeepAlive: Bool, contentLength: UInt64?, isChunked: Bool,
        headLength: Int, connectionNamesOthers: Bool = false
    ) {
        self.version = version
        self.status = status
        self.reason = reason
        self.fields = fields
        self.connectionClose = connectionClose
        self.connectionKeepAlive = connectionKeepAlive
        self.connectionNamesOthers = connectionNamesOthers
        self.contentLength = contentLength
        self.isChunked = isChunked
        self.headLength = headLength
    }

    /// A 1xx response; another head follows it on the same connection.
    @inlinable
    public var isInformational: Bool { status >= 100 && status < 200 }

    /// Whether the upstream keeps the connection open afterwards, per RFC 9112 §9.3 (the framing
    /// must also allow it: an `.untilClose` body ends the connection).
    @inlinable
    public var isKeepAlive: Bool {
        if connectionClose { return false }
        return version.minor >= 1 || connectionKeepAlive
    }

    /// The body framing per RFC 9112 §6.3 for a response to `requestMethod`: HEAD, 1xx, 204 and
    /// 304 have none; then chunked; then Content-Length; else the body runs until close.
    @inlinable
    public func framing(requestMethod: HTTPMethod) -> BodyFraming {
        if requestMethod == .head || isInformational || status == 204 || status == 304 {
            return .none
        }
        if isChunked { return .chunked }
        if let contentLength { return .contentLength(contentLength) }
        return .untilClose
    }
}
