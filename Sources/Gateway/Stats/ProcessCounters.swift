/// One worker's process-wide counters: connections and requests regardless of route.
public struct ProcessCounters: Sendable, Equatable {
    /// Client connections accepted.
    public var connectionsAccepted: UInt64 = 0
    /// Client connections refused (e.g. over the connection limit).
    public var connectionsRejected: UInt64 = 0
    /// Client connections open now.
    public var connectionsActive: Int = 0
    /// Client requests received.
    public var requestsTotal: UInt64 = 0
    /// Client requests in progress now.
    public var requestsActive: Int = 0

    /// Creates all-zero counters.
    public init() {}

    /// Adds another worker's counters.
    public mutating func merge(_ other: ProcessCounters) {
        connectionsAccepted &+= other.connectionsAccepted
        connectionsRejected &+= other.connectionsRejected
        connectionsActive &+= other.connectionsActive
        requestsTotal &+= other.requestsTotal
        requestsActive &+= other.requestsActive
    }
}
