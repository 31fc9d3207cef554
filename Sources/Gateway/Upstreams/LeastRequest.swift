/// `least_request`: the power of two choices, weighted by requests in flight (Mitzenmacher,
/// "The Power of Two Choices in Randomized Load Balancing"; Envoy's least-request balancer).
///
/// Each pick draws two distinct eligible servers by weight (as ``WeightedRandom`` does) and
/// takes the one with the lower (in flight + 1) / weight; on a tie, the first drawn. With one
/// eligible server it takes that one. Two random candidates instead of the global minimum keep
/// the pick O(1) and keep workers, which each see only their own in-flight counts, from all
/// piling onto the same momentarily idle server.
///
/// Immutable once built; randomness and in-flight counts come from the caller.
public struct LeastRequest: Sendable {
    private let candidates: WeightedRandom

    /// Each server's weight (>= 1), by server index.
    package var weights: [Int] { candidates.weights }

    /// A balancer over servers with these weights, each >= 1.
    package init(weights: [Int]) {
        candidates = WeightedRandom(weights: weights)
    }

    /// The less loaded of two servers drawn by weight among those not excluded, or nil when every
    /// server is excluded. `inFlight(i)` is the number of requests server `i` is serving now
    /// (negative counts as zero); it is called at most twice.
    package func pick(_ input: BalancerInput, inFlight: (Int) -> Int, excluding: (Int) -> Bool) -> Int? {
        var draws = RandomDraws(seed: input.random)
        guard let first = candidates.draw(&draws, excluding: excluding, besides: -1) else { return nil }
        guard let second = candidates.draw(&draws, excluding: excluding, besides: first) else {
            return first
        }
        // (n2 + 1) / w2 < (n1 + 1) / w1, compared as (n2 + 1) * w1 < (n1 + 1) * w2 in 128 bits:
        // exact, and no division.
        let weights = candidates.weights
        let first128 = (UInt64(max(inFlight(first), 0)) + 1).multipliedFullWidth(by: UInt64(weights[second]))
        let second128 = (UInt64(max(inFlight(second), 0)) + 1).multipliedFullWidth(by: UInt64(weights[first]))
        return (second128.high, second128.low) < (first128.high, first128.low) ? second : first
    }
}
