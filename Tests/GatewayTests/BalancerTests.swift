import Gateway
import Testing

@Suite struct BalancerTests {
    /// A pick with no request in flight anywhere.
    private static func pick(
        _ balancer: inout Balancer, random: UInt64 = 0, keyHash: UInt64 = 0,
        excluding: (Int) -> Bool = { _ in false }
    ) -> Int? {
        balancer.pick(
            BalancerInput(random: random, keyHash: keyHash), inFlight: { _ in 0 }, excluding: excluding)
    }

    @Test func roundRobinKeepsItsStateAcrossPicks() {
        var balancer = Balancer.roundRobin(SmoothWeightedRoundRobin(weights: [2, 1]))
        let picks = (0..<6).map { _ in Self.pick(&balancer) }
        #expect(picks == [0, 1, 0, 0, 1, 0])
    }

    @Test func eachCopyBalancesIndependently() {
        let template = Balancer.roundRobin(SmoothWeightedRoundRobin(weights: [1, 1]))
        var first = template
        var second = template
        #expect(Self.pick(&first) == 0)
        #expect(Self.pick(&first) == 1)
        #expect(Self.pick(&second) == 0)
    }

    @Test(arguments: BalancerTesting.algorithms)
    func retriesPreferAServerNotYetTried(algorithm: BalanceAlgorithm) {
        var balancer = BalancerTesting.balancer(algorithm, weights: [1, 1, 1])
        var random = SeededRandom(seed: 5)
        for key in 0..<100 as Range<UInt64> {
            let first = Self.pick(&balancer, random: random.next(), keyHash: key)!
            let second = Self.pick(&balancer, random: random.next(), keyHash: key) { $0 == first }
            #expect(second != nil && second != first)
        }
    }

    @Test(arguments: BalancerTesting.algorithms)
    func neverPicksAnExcludedServer(algorithm: BalanceAlgorithm) throws {
        let weights = [3, 1, 2, 5, 1, 4]
        var balancer = BalancerTesting.balancer(algorithm, weights: weights)
        var random = SeededRandom(seed: 9)
        for _ in 0..<2000 {
            // A random non-empty subset stays eligible.
            let eligible = random.next() & 0b11_1111 | 1 << (random.next() % 6)
            let server = Self.pick(&balancer, random: random.next(), keyHash: random.next()) {
                eligible & 1 << $0 == 0
            }
            let picked = try #require(server)
            #expect(eligible & 1 << picked != 0)
        }
    }

    @Test(arguments: BalancerTesting.algorithms)
    func returnsNilWhenEveryServerIsExcluded(algorithm: BalanceAlgorithm) {
        var balancer = BalancerTesting.balancer(algorithm, weights: [2, 3, 1])
        for seed in 0..<50 as Range<UInt64> {
            #expect(Self.pick(&balancer, random: seed, keyHash: seed) { _ in true } == nil)
        }
        var empty = BalancerTesting.balancer(algorithm, weights: [])
        #expect(Self.pick(&empty, random: 1, keyHash: 1) == nil)
    }

    @Test(arguments: BalancerTesting.algorithms)
    func givesEachServerItsWeightShare(algorithm: BalanceAlgorithm) {
        // Under load, which only least_request reads: each request stays in flight for the next
        // 1000 picks, so its bias towards heavy servers (LeastRequestTests) stays below 0.003.
        let weights = [5, 1, 3, 1]
        let picks = BalancerTesting.picksUnderLoad(
            BalancerTesting.balancer(algorithm, weights: weights), servers: weights.count, window: 1000,
            seed: 4)
        #expect(BalancerTesting.largestShareError(picks, weights: weights) < BalancerTesting.shareTolerance)
    }

    @Test(arguments: BalancerTesting.algorithms)
    func theSameInputsGiveTheSamePicks(algorithm: BalanceAlgorithm) {
        var first = BalancerTesting.balancer(algorithm, weights: [2, 1, 3])
        var second = first
        var random = SeededRandom(seed: 21)
        for _ in 0..<500 {
            let (word, key) = (random.next(), random.next())
            #expect(
                Self.pick(&first, random: word, keyHash: key)
                    == Self.pick(&second, random: word, keyHash: key))
        }
    }
}
