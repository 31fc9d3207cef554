/// Picks a server of one upstream for each request; the algorithm is chosen when a snapshot is
/// built, not per request.
///
/// A mutable value owned by one worker (each worker has its own copy), so picking takes no lock.
/// Server indices are positions in the upstream's `servers`.
public enum Balancer: Sendable {
    /// `round_robin`: nginx's smooth weighted round robin.
    case roundRobin(SmoothWeightedRoundRobin)

    /// The next server, skipping those for which `excluding` is true (open circuit, unhealthy,
    /// already tried); nil when every server is excluded.
    public mutating func pick(excluding: (Int) -> Bool) -> Int? {
        // `consume self` leaves the payload uniquely referenced, so mutating it does not copy
        // its storage on every pick.
        switch consume self {
        case .roundRobin(var state):
            let server = state.pick(excluding: excluding)
            self = .roundRobin(state)
            return server
        }
    }
}
