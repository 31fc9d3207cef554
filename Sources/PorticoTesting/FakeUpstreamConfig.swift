/// Settings of a `FakeUpstream`; the defaults suit ordinary tests.
package struct FakeUpstreamConfig: Sendable {
    /// Whether request bodies are kept in `FakeRequest.body`; false only counts them (100 MiB tests).
    package var storesBodies: Bool
    /// The most bytes read from a connection at once.
    package var readChunkBytes: Int
    /// A pause after each read piece of a request body, to exert backpressure on the sender.
    package var readDelayPerChunk: Duration
    /// `SO_RCVBUF` for accepted connections (nil keeps the system default); small values make
    /// backpressure appear sooner.
    package var receiveBufferBytes: Int?
    /// The longest wait for the next bytes once a request has begun.
    package var readTimeout: Duration
    /// The longest wait for socket buffer space while writing a response.
    package var writeTimeout: Duration
    /// How long an idle keep-alive connection stays open; nil keeps it until the peer closes or
    /// `stop()`.
    package var idleTimeout: Duration?
    /// The largest request head accepted; larger ones get 400 and a close.
    package var maxHeadBytes: Int

    /// Creates a configuration; every parameter has a default.
    package init(
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
