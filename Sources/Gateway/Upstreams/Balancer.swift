/// Picks a server of one upstream for each request; the algorithm is chosen when a snapshot is
/// built, not per request.
///
/// A value owned by one worker (each worker has its own copy), so picking takes no lock; the
/// tables of the algorithms that have them are built once per generation and shared by the
/// copies. Server indices are positions in the upstream's `servers`. Picking allocates nothing.
public enum Balancer: Sendable {
    /// `round_robin`: nginx's smooth weighted round robin.
    case roundRobin(SmoothWeightedRoundRobin)
    /// `least_request`: the power of two choices, weighted by requests in flight.
    case leastRequest(LeastRequest)
    /// `random`: weighted random.
    case random(WeightedRandom)
    /// `consistent_hash`: a Maglev table over the key's hash.
    case consistentHash(ConsistentHash)

    /// The next server, skipping those for which `excluding` is true (open circuit, unhealthy,
    /// already tried); nil when every server is excluded.
    ///
    /// `input` carries the random word (`random`, `least_request`) and the key's hash
    /// (`consistent_hash`); `inFlight(i)` is how many requests server `i` is serving now, read
    /// only by `least_request`. Both closures may be called more than once for a server.
    package mutating func pick(
        _ input: BalancerInput, inFlight: (Int) -> Int, excluding: (Int) -> Bool
    ) -> Int? {
        // `consume self` leaves the payload uniquely referenced, so mutating it does not copy
        // its storage on every pick.
        switch consume self {
        case .roundRobin(var state):
            let server = state.pick(excluding: excluding)
            self = .roundRobin(state)
            return server
        case .leastRequest(let state):
            let server = state.pick(input, inFlight: inFlight, excluding: excluding)
            self = .leastRequest(state)
            return server
        case .random(let state):
            let server = state.pick(input, excluding: excluding)
            self = .random(state)
            return server
        case .consistentHash(let state):
            let server = state.pick(input, excluding: excluding)
            self = .consistentHash(state)
            return server
        }
    }
}
