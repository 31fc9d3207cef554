import Gateway
import Testing

@Suite struct SmoothWeightedRoundRobinTests {
    @Test func spreadsPicksLikeNginx() {
        var balancer = SmoothWeightedRoundRobin(weights: [5, 1, 1])
        let names = ["a", "b", "c"]
        let picks = (0..<14).map { _ in names[balancer.pick { _ in false }!] }
        #expect(picks == ["a", "a", "b", "a", "c", "a", "a", "a", "a", "b", "a", "c", "a", "a"])
    }

    @Test(arguments: [[1, 1, 1], [5, 1, 1], [3, 2], [10, 1, 4, 7], [1]])
    func givesEachServerItsWeightShare(weights: [Int]) {
        var balancer = SmoothWeightedRoundRobin(weights: weights)
        var counts = Array(repeating: 0, count: weights.count)
        let cycles = 1000
        for _ in 0..<(cycles * weights.reduce(0, +)) {
            counts[balancer.pick { _ in false }!] += 1
        }
        #expect(counts == weights.map { $0 * cycles })
    }

    @Test func skipsExcludedServersAndKeepsTheOthersShares() {
        var balancer = SmoothWeightedRoundRobin(weights: [5, 1, 1])
        var counts = [0, 0, 0]
        for _ in 0..<200 {
            counts[balancer.pick { $0 == 0 }!] += 1
        }
        #expect(counts == [0, 100, 100])
    }

    @Test func returnsNilWhenEveryServerIsExcluded() {
        var balancer = SmoothWeightedRoundRobin(weights: [2, 3])
        #expect(balancer.pick { _ in true } == nil)
        #expect(SmoothWeightedRoundRobin(weights: []).weights.isEmpty)
        var empty = SmoothWeightedRoundRobin(weights: [])
        #expect(empty.pick { _ in false } == nil)
    }
}
