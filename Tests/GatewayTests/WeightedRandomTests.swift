import Gateway
import Testing

@Suite struct WeightedRandomTests {
    @Test(arguments: [[1, 1, 1], [5, 1, 1], [3, 2], [10, 1, 4, 7], [1], [1000, 1]])
    func givesEachServerItsWeightShare(weights: [Int]) {
        let balancer = WeightedRandom(weights: weights)
        var random = SeededRandom(seed: 1)
        var counts = Array(repeating: 0, count: weights.count)
        for _ in 0..<BalancerTesting.samples {
            counts[balancer.pick(BalancerInput(random: random.next()), excluding: { _ in false })!] += 1
        }
        #expect(BalancerTesting.largestShareError(counts, weights: weights) < BalancerTesting.shareTolerance)
    }

    @Test func sharesTheExcludedServersWeightByTheOthersWeights() {
        // Server 1 (weight 5) is excluded: 2, 3 and 0 keep shares 2 : 3 : 1 of the rest.
        let balancer = WeightedRandom(weights: [1, 5, 2, 3])
        var random = SeededRandom(seed: 2)
        var counts = [0, 0, 0, 0]
        for _ in 0..<BalancerTesting.samples {
            counts[balancer.pick(BalancerInput(random: random.next()), excluding: { $0 == 1 })!] += 1
        }
        #expect(counts[1] == 0)
        #expect(
            BalancerTesting.largestShareError(counts, weights: [1, 0, 2, 3]) < BalancerTesting.shareTolerance)
    }

    @Test func theSameRandomWordGivesTheSamePick() {
        let balancer = WeightedRandom(weights: [3, 1, 4, 1, 5])
        var first = SeededRandom(seed: 7)
        var second = SeededRandom(seed: 7)
        let picks = (0..<1000).map { _ in
            balancer.pick(BalancerInput(random: first.next()), excluding: { _ in false })
        }
        let again = (0..<1000).map { _ in
            balancer.pick(BalancerInput(random: second.next()), excluding: { _ in false })
        }
        #expect(picks == again)
        #expect(Set(picks.compactMap { $0 }) == [0, 1, 2, 3, 4])
    }

    @Test func returnsNilWithoutServers() {
        #expect(WeightedRandom(weights: []).pick(BalancerInput(random: 1), excluding: { _ in false }) == nil)
    }
}
