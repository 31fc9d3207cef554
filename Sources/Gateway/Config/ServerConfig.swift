/// One server of an upstream (`upstreams.<name>.servers[i]`).
public struct ServerConfig: Sendable, Equatable {
    /// Where the server listens; required, port 1...65535. `address.text` keys it in stats.
    public var address: ConfigAddress
    /// Relative share of traffic, 1...1000000; default 1.
    public var weight: Int

    /// Creates a server with weight 1 unless given.
    public init(address: ConfigAddress, weight: Int = 1) {
        self.address = address
        self.weight = weight
    }
}
