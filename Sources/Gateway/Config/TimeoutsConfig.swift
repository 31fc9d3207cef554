/// Client-side timeouts (`timeouts`).
public struct TimeoutsConfig: Sendable, Equatable {
    /// Time a client has to deliver a whole request head (`requestHeaderMs`); default 10 s.
    public var requestHeader: TimeSpan
    /// Keep-alive idle time, and the longest silence while a body flows (`idleMs`); default 60 s.
    public var idle: TimeSpan
    /// Longest graceful drain on shutdown (`drainMs`); default 15 s. The running
    /// configuration's value counts, so a reload can change it.
    public var drain: TimeSpan

    /// Creates timeouts with the documented defaults (docs/configuration.md).
    public init(
        requestHeader: TimeSpan = .milliseconds(10000),
        idle: TimeSpan = .milliseconds(60000),
        drain: TimeSpan = .milliseconds(15000)
    ) {
        self.requestHeader = requestHeader
        self.idle = idle
        self.drain = drain
    }
}
