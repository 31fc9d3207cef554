/// Settings of a `FakeUpstream`; the defaults suit ordinary tests.
public struct FakeUpstreamConfig: Sendable {
    /// Whether request bodies are kept in `FakeRequest.body`; false only counts them (100 MiB tests).
    public var storesBodies: Bool
    /// The most bytes read from a connection at once.
    public var readChunkBytes: Int
    /// A pause after each read piece of a request body, to exert backpressure on the sender.
    public var readDelayPerChunk: Duration
    /// `SO_RCVBUF` for accepted connections (nil keeps the system default); small values make
    /// backpressure appear sooner.
    public var receiveBufferBytes: Int?
    /// The longest wait for the next bytes once a request has begun.
    public var readTimeout: Duration
    /// The longest wait for socket buffer space while writing a response.
    public var writeTimeout: Duration
    /// How long an idle keep-alive connection stays open; nil keeps it until the peer closes or
    /// `stop()`.
    public var idleTimeout: Duration?
    /// The largest request head accepted; larger ones get 400 and a close.
    public var maxHeadBytes: Int

    /// Creates a configuration; every parameter has a default.
    public init(
        storesBodies: Bool = true, readChunkBytes: Int = 65536, readDelayPerChunk: Duration = .zero,
        receiveBufferBytes: Int? = nil, readTimeout: Duration = .seconds(10),
        writeTimeout: Duration = .seconds(10),
        idleTimeout: Duration? = nil, maxHeadBytes: Int = 65536
    ) {
        self.storesBodies = storesBodies
        self.readChunkBytes = readChunkBytes
        self.readDelayPerChunk = readDelayPerChunk
        self.receiveBufferBytes = receiveBufferBytes
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        self.idleTimeout = idleTimeout
        self.maxHeadBytes = maxHeadBytes
    }
}
