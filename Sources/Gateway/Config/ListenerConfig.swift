/// One public listener (`listeners[i]`).
public struct ListenerConfig: Sendable, Equatable {
    /// A name for logs; defaults to the address as written.
    public var name: String
    /// Where to listen; required. Port 0 lets the kernel choose.
    public var address: ConfigAddress
    /// Peers whose `X-Forwarded-For` is believed (docs/configuration.md, `trustedProxies`); empty by default.
    public var trustedProxies: [CIDR]

    /// Creates a listener; `name` defaults to `address.text`, `trustedProxies` to none.
    public init(name: String? = nil, address: ConfigAddress, trustedProxies: [CIDR] = []) {
        self.name = name ?? address.text
        self.address = address
        self.trustedProxies = trustedProxies
    }

    /// Whether `peer` is one of the trusted proxies.
    public func trusts(_ peer: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(peer) }
    }
}
