/// Size caps the reply parser enforces, so a broken or hostile server cannot make the
/// gateway buffer without bound. The defaults are far above anything the gateway asks
/// for (its replies are a few integers).
public struct RESPLimits: Sendable {
    /// Longest type line (`+...`, `-...`, `:...`, `$n`, `*n`), CRLF excluded.
    public var maxLineBytes: Int
    /// Longest bulk string.
    public var maxBulkBytes: Int
    /// Most elements in one array.
    public var maxArrayCount: Int
    /// Deepest nesting of arrays.
    public var maxDepth: Int
    /// Most values (at every depth) in one reply.
    public var maxReplyValues: Int

    public init(
        maxLineBytes: Int = 4096, maxBulkBytes: Int = 512 * 1024, maxArrayCount: Int = 1024,
        maxDepth: Int = 8, maxReplyValues: Int = 4096
    ) {
        self.maxLineBytes = maxLineBytes
        self.maxBulkBytes = maxBulkBytes
        self.maxArrayCount = maxArrayCount
        self.maxDepth = maxDepth
        self.maxReplyValues = maxReplyValues
    }
}
