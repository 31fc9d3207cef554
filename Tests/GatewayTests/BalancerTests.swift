import Gateway
import Testing

@Suite struct BalancerTests {
    @Test func roundRobinKeepsItsStateAcrossPicks() {
        var balancer = Balancer.roundRobin(SmoothWeightedRoundRobin(weights: [2, 1]))
        let picks = (0..<6).map { _ in balancer.pick { _ in false } }
        #expect(picks == [0, 1, 0, 0, 1, 0])
    }

    @Test func eachCopyBalancesIndependently() {
        let template = Balancer.roundRobin(SmoothWeightedRoundRobin(weights: [1, 1]))
        var first = template
        var second = template
        #expect(first.pick { _ in false } == 0)
        #expect(first.pick { _ in false } == 1)
        #expect(second.pick { _ in false } == 0)
    }

    @Test func retriesPreferAServerNotYetTried() {
        var balancer = Balancer.roundRobin(SmoothWeightedRoundRobin(weights: [1, 1, 1]))
        let first = balancer.pick { _ in false }!
        let second = balancer.pick { $0 == first }
        #expect(second != nil && second != first)
    }
}
