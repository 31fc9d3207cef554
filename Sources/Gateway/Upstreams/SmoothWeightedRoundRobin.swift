/// nginx's smooth weighted round robin (`ngx_http_upstream_get_peer`): spreads each server's
/// picks evenly through the cycle instead of in bursts.
///
/// Each pick adds every eligible server's weight to its current weight, takes the server with the
/// highest current weight (the first one on a tie) and subtracts the total eligible weight from it.
/// With weights 5, 1, 1 the picks repeat `a a b a c a a`.
public struct SmoothWeightedRoundRobin: Sendable {
    /// Each server's weight (>= 1), by server index.
    public let weights: [Int]
    private var currentWeights: [Int]

    /// A balancer over servers with these weights, each >= 1.
    public init(weights: [Int]) {
        precondition(weights.allSatisfy { $0 >= 1 }, "server weights must be at least 1")
        self.weights = weights
        self.currentWeights = Array(repeating: 0, count: weights.count)
    }

    /// The next server not excluded, or nil when every server is excluded. Excluded servers do not
    /// take part in the round, so the others keep their relative shares.
    public mutating func pick(excluding: (Int) -> Bool) -> Int? {
        var best = -1
        var total = 0
        for index in weights.indices where !excluding(index) {
            currentWeights[index] += weights[index]
            total += weights[index]
            if best < 0 || currentWeights[index] > currentWeights[best] {
                best = index
            }
        }
        guard best >= 0 else { return nil }
        currentWeights[best] -= total
        return best
    }
}
