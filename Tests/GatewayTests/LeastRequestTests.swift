import Gateway
import Testing

@Suite struct LeastRequestTests {
    /// Picks `count` times with fresh random words and the given in-flight counts.
    private func counts(
        _ balancer: LeastRequest, inFlight load: [Int], seed: UInt64 = 1,
        count: Int = BalancerTesting.samples,
        excluding: (Int) -> Bool = { _ in false }
    ) -> [Int] {
        var random = SeededRandom(seed: seed)
        var counts = Array(repeating: 0, count: load.count)
        for _ in 0..<count {
            let server = balancer.pick(
                BalancerInput(random: random.next()), inFlight: { load[$0] }, excluding: excluding)
            counts[server!] += 1
        }
        return counts
    }

    @Test func prefersTheLessLoadedOfTwo() {
        let balancer = LeastRequest(weights: [1, 1])
        #expect(counts(balancer, inFlight: [5, 0], count: 1000) == [0, 1000])
        #expect(counts(balancer, inFlight: [0, 1], count: 1000) == [1000, 0])
    }

    @Test func comparesLoadPerUnitOfWeight() {
        let balancer = LeastRequest(weights: [4, 1])
        // (2 + 1) / 4 < (0 + 1) / 1: the heavier server has room for more.
        #expect(counts(balancer, inFlight: [2, 0], count: 1000) == [1000, 0])
        // (4 + 1) / 4 > (0 + 1) / 1.
        #expect(counts(balancer, inFlight: [4, 0], count: 1000) == [0, 1000])
    }

    @Test func neverPicksTheMostLoadedServerWhileAnotherIsEligible() {
        // Two distinct candidates: the busiest of three servers is never the better one.
        let picks = counts(LeastRequest(weights: [1, 1, 1]), inFlight: [0, 9, 0])
        #expect(picks[1] == 0)
        #expect(
            BalancerTesting.largestShareError(picks, weights: [1, 0, 1]) < BalancerTesting.shareTolerance)
    }

    @Test func whenIdleTheHeavierCandidateWins() {
        // (0 + 1) / 3 < (0 + 1) / 1.
        #expect(counts(LeastRequest(weights: [1, 3]), inFlight: [0, 0], count: 1000) == [0, 1000])
        // Equal weights tie, and a tie goes to the first candidate, drawn at random.
        let picks = counts(LeastRequest(weights: [1, 1]), inFlight: [0, 0])
        #expect(BalancerTesting.largestShareError(picks, weights: [1, 1]) < BalancerTesting.shareTolerance)
    }

    @Test(arguments: [[1, 1, 1], [5, 1, 1], [3, 2], [10, 1, 4, 7], [3, 2, 1]], [60, 200])
    func spreadsLoadInProportionToWeight(weights: [Int], window: Int) {
        // Each request stays in flight for the next `window` picks: the in-flight counts the
        // balancer sees settle in proportion to the weights, and so do the picks. Not exactly:
        // equal costs (n + 1) / w over N servers holding `window` requests put
        // w (window + N) / W − 1 on a server, a share off by (w N / W − 1) / window, less than
        // (N − 1) / window; on top of that the sampling tolerance.
        let picks = BalancerTesting.picksUnderLoad(
            .leastRequest(LeastRequest(weights: weights)), servers: weights.count, window: window, seed: 3)
        let bias = Double(weights.count - 1) / Double(window)
        #expect(
            BalancerTesting.largestShareError(picks, weights: weights) < bias + BalancerTesting.shareTolerance
        )
    }

    @Test func takesTheOnlyEligibleServerHoweverLoaded() {
        let picks = counts(LeastRequest(weights: [1, 1, 1]), inFlight: [0, 100, 0], count: 100) { $0 != 1 }
        #expect(picks == [0, 100, 0])
    }

    @Test func theSameInputsGiveTheSamePick() {
        let balancer = LeastRequest(weights: [2, 1, 3, 1])
        let load = [3, 0, 5, 1]
        var first = SeededRandom(seed: 11)
        var second = SeededRandom(seed: 11)
        let picks = (0..<1000).map { _ in
            balancer.pick(
                BalancerInput(random: first.next()), inFlight: { load[$0] }, excluding: { _ in false })
        }
        let again = (0..<1000).map { _ in
            balancer.pick(
                BalancerInput(random: second.next()), inFlight: { load[$0] }, excluding: { _ in false })
        }
        #expect(picks == again)
    }
}
