/// `random`: each pick takes an eligible server with probability proportional to its weight.
///
/// Immutable once built (one per generation, shared by every worker's copy of the balancer);
/// randomness comes from the caller, so a pick is a pure function of its input.
public struct WeightedRandom: Sendable {
    /// Each server's weight (>= 1), by server index.
    package let weights: [Int]
    /// `cumulativeWeights[i]` is the sum of `weights[0...i]`.
    private let cumulativeWeights: [Int]

    /// A balancer over servers with these weights, each >= 1.
    package init(weights: [Int]) {
        precondition(weights.allSatisfy { $0 >= 1 }, "server weights must be at least 1")
        self.weights = weights
        var sum = 0
        cumulativeWeights = weights.map {
            sum += $0
            return sum
        }
    }

    /// A server drawn by weight among those not excluded, or nil when every server is excluded.
    /// `excluding` may be called more than once for a server.
    package func pick(_ input: BalancerInput, excluding: (Int) -> Bool) -> Int? {
        var draws = RandomDraws(seed: input.random)
        return draw(&draws, excluding: excluding, besides: -1)
    }

    /// A server drawn by weight among those neither excluded nor `other` (-1: none).
    ///
    /// The first draw is over every server (a binary search of the cumulative weights); only
    /// when it lands on an ineligible server is the draw made again over the eligible ones.
    /// Each eligible server still gets exactly its weight's share of the eligible total W−E:
    /// w/W from the first draw plus E/W · w/(W−E) from the second adds up to w/(W−E).
    func draw(_ draws: inout RandomDraws, excluding: (Int) -> Bool, besides other: Int) -> Int? {
        guard let total = cumulativeWeights.last else { return nil }
        let first = server(at: draws.next(below: total))
        if first != other && !excluding(first) { return first }

        var eligibleTotal = 0
        for index in weights.indices where index != other && !excluding(index) {
            eligibleTotal += weights[index]
        }
        guard eligibleTotal > 0 else { return nil }
        var point = draws.next(below: eligibleTotal)
        var lastEligible: Int?
        for index in weights.indices where index != other && !excluding(index) {
            if point < weights[index] { return index }
            point -= weights[index]
            lastEligible = index
        }
        // Only reached when `excluding` changed its answers during the pick (it may read state
        // other threads update, such as circuit breakers).
        return lastEligible
    }

    /// The server whose cumulative range holds `point` (0 <= point < total weight).
    private func server(at point: Int) -> Int {
        var low = 0
        var high = cumulativeWeights.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulativeWeights[middle] > point {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }
}
