/// A parsed request head: the request line, the field lines as spans, and the framing facts the
/// gateway needs, all checked (README.md, "Strict parsing").
///
/// Spans point into the buffer the parser was fed; the head does not own bytes.
public struct RequestHead: Equatable, Sendable {
    /// The method, recognised case-sensitively.
    public var method: HTTPMethod
    /// The method bytes (a token).
    public var methodSpan: ByteSpan
    /// The request target as received.
    public var target: ByteSpan
    /// Which form the target has.
    public var targetForm: TargetForm
    /// Absolute-form only: the authority (`host[:port]`), already checked like Host.
    public var absoluteAuthority: ByteSpan?
    /// The path and query to forward in origin-form. Equals `target` for origin- and
    /// asterisk-form. For absolute-form it is what follows the authority, which may be empty or
    /// start with '?': then the origin-form is "/" followed by it (see `originTargetNeedsSlash`).
    public var originTarget: ByteSpan
    /// The protocol version: 1.0 or 1.1 (1.x with x > 1 becomes 1.1).
    public var version: HTTPVersion
    /// Every field line in order, with OWS trimmed from values.
    public var fields: [HeaderField]
    /// How the body is delimited: `.none` when neither Content-Length nor Transfer-Encoding was
    /// sent; `.contentLength(n)` (n may be 0); or `.chunked`.
    public var framing: BodyFraming
    /// The authority of an absolute-form target if there is one (RFC 9112 §3.2.2), else the Host
    /// value; nil only for an HTTP/1.0 request without (or with an empty) Host.
    public var host: ByteSpan?
    /// `Connection` lists `close`.
    public var connectionClose: Bool
    /// `Connection` lists `keep-alive`.
    public var connectionKeepAlive: Bool
    /// `Connection` lists a token other than `close`, `keep-alive` and `upgrade`: a field a
    /// proxy must drop by name (RFC 9110 §7.6.1). Without it, no field needs checking against
    /// the list, since the fields those three name are hop-by-hop anyway.
    public var connectionNamesOthers: Bool
    /// `Connection` lists `upgrade`.
    public var connectionUpgrade: Bool
    /// `Expect: 100-continue` (case-insensitive) was sent.
    public var expectContinue: Bool
    /// Bytes of the head from offset 0 through the blank line; the body starts here.
    public var headLength: Int

    /// Creates a head from its parts (the parser fills every field).
    public init(
        method: HTTPMethod, methodSpan: ByteSpan, target: ByteSpan, targetForm: TargetForm,
        absoluteAuthority: ByteSpan?, originTarget: ByteSpan, version: HTTPVersion,
        fields: [HeaderField], framing: BodyFraming, host: ByteSpan?, connectionClose: Bool,
        connectionKeepAlive: Bool, connectionUpgrade: Bool, expectContinue: Bool, headLength: Int,
        originTargetNeedsSlash: Bool = false, connectionNamesOthers: Bool = false
    ) {
        self.method = method
        self.methodSpan = methodSpan
        self.target = target
        self.targetForm = targetForm
        self.absoluteAuthority = absoluteAuthority
        self.originTarget = originTarget
        self.version = version
        self.fields = fields
        self.framing = framing
        self.host = host
        self.connectionClose = connectionClose
        self.connectionKeepAlive = connectionKeepAlive
        self.connectionNamesOthers = connectionNamesOthers
        self.connectionUpgrade = connectionUpgrade
        self.expectContinue = expectContinue
        self.headLength = headLength
        self.originTargetNeedsSlash = originTargetNeedsSlash
    }

    /// Whether the connection stays open after this exchange, per RFC 9112 §9.3: HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive` (and no close).
    @inlinable
    public var isKeepAlive: Bool {
        if connectionClose { return false }
        return version.minor >= 1 || connectionKeepAlive
    }

    /// True when "/" must precede `originTarget` to make a valid origin-form target: an
    /// absolute-form target with an empty path (`http://example.com`, `http://example.com?q`).
    public var originTargetNeedsSlash: Bool
}
