/// Process-wide size and connection limits (`limits`).
public struct LimitsConfig: Sendable, Equatable {
    /// Client connections for the whole process (admin excluded); default 10000.
    public var maxConnections: Int
    /// Request line plus header fields; default 16384.
    public var maxRequestHeaderBytes: Int
    /// Request body; 0 means unlimited; default 10485760 (10 MiB).
    public var maxRequestBodyBytes: Int
    /// Upstream response head; default 32768.
    public var maxResponseHeaderBytes: Int

    /// Creates limits with the documented defaults (docs/configuration.md).
    public init(
        maxConnections: Int = 10000,
        maxRequestHeaderBytes: Int = 16384,
        maxRequestBodyBytes: Int = 10_485_760,
        maxResponseHeaderBytes: Int = 32768
    ) {
        self.maxConnections = maxConnections
        self.maxRequestHeaderBytes = maxRequestHeaderBytes
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.maxResponseHeaderBytes = maxResponseHeaderBytes
    }
}
