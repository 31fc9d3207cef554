/// How an upstream picks a server (`balance`, plus `hashOn` for consistent hashing).
public enum BalanceAlgorithm: Sendable, Hashable, CustomStringConvertible {
    /// `round_robin`: smooth weighted round robin (the default).
    case roundRobin
    /// `least_request`: power of two choices weighted by in-flight requests.
    case leastRequest
    /// `random`: weighted random.
    case random
    /// `consistent_hash` on the given key (`hashOn`, client IP by default).
    case consistentHash(HashKey)

    /// The `balance` value as written in the configuration.
    public var description: String {
        switch self {
        case .roundRobin: return "round_robin"
        case .leastRequest: return "least_request"
        case .random: return "random"
        case .consistentHash: return "consistent_hash"
        }
    }
}

/// What a consistent-hash balancer hashes (`hashOn`).
public enum HashKey: Sendable, Hashable, CustomStringConvertible {
    /// `client_ip`: the client address (docs/configuration.md, `trustedProxies` explains which one).
    case clientIP
    /// `path`: the normalized request path.
    case path
    /// `header:<Name>`: a request header's value; the name as written, compared case-insensitively.
    case header(String)

    /// The `hashOn` value as written in the configuration.
    public var description: String {
        switch self {
        case .clientIP: return "client_ip"
        case .path: return "path"
        case .header(let name): return "header:\(name)"
        }
    }
}
