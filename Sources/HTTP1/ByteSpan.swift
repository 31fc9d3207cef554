/// A half-open range of byte offsets into the buffer a parser was fed.
///
/// Offset 0 is the first byte of the message (for a request, the first byte of any leading empty
/// lines). Spans stay valid as long as the caller keeps those bytes where they were.
public struct ByteSpan: Hashable, Sendable {
    /// Offset of the first byte.
    public var start: Int32
    /// Offset one past the last byte.
    public var end: Int32

    /// Number of bytes covered.
    @inlinable
    public var count: Int { Int(end &- start) }

    /// True when the span covers no byte.
    @inlinable
    public var isEmpty: Bool { start == end }

    /// The span as a range of `Int` offsets.
    @inlinable
    public var range: Range<Int> { Int(start)..<Int(end) }

    /// Creates a span; `start <= end` and both must fit in `Int32`.
    @inlinable
    public init(start: Int, end: Int) {
        precondition(start <= end, "ByteSpan start after end")
        self.start = Int32(start)
        self.end = Int32(end)
    }

    /// Unchecked initialiser for the parsers, which only produce offsets below their head limit.
    @inlinable
    init(unchecked start: Int, _ end: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.end = Int32(truncatingIfNeeded: end)
    }

    /// The bytes of this span inside `buffer`, which must be the buffer the span was made from.
    @inlinable
    public func bytes(in buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: buffer[Int(start)..<Int(end)])
    }
}
