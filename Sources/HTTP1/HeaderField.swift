/// One field line of a parsed head, as spans into the parsed buffer.
public struct HeaderField: Hashable, Sendable {
    /// The field name as received (case preserved, no surrounding whitespace).
    public var name: ByteSpan
    /// The field value with leading and trailing whitespace (OWS) removed; may be empty.
    public var value: ByteSpan
    /// The name recognised among the fields the gateway acts on, or `.other`.
    public var known: KnownField
    /// Response heads only: the value spans obs-fold line breaks (RFC 9112 §5.2). A writer must
    /// replace each CRLF plus whitespace run with one SP; `HTTP1Writer.unfoldedField` does that.
    public var needsUnfolding: Bool

    /// Creates a field from its parts.
    @inlinable
    public init(name: ByteSpan, value: ByteSpan, known: KnownField, needsUnfolding: Bool = false) {
        self.name = name
        self.value = value
        self.known = known
        self.needsUnfolding = needsUnfolding
    }
}
