import Gateway
import Testing

private let config = HealthCheckConfig(unhealthyThreshold: 3, healthyThreshold: 2)

@Suite struct HealthStateTests {
    @Test func aServerStartsHealthy() {
        #expect(HealthState().isHealthy)
        #expect(HealthState().streak == 0)
        #expect(HealthState().bits == 0)
        #expect(ServerHealth().isHealthy)
        #expect(ServerHealth().state == HealthState())
    }

    /// Probe results ("F" failed, "P" passed), then the health after each one with
    /// unhealthyThreshold 3 and healthyThreshold 2 ("h" healthy, "u" unhealthy).
    @Test(arguments: [
        ("FF", "hh"),
        ("FFF", "hhu"),
        ("FFFF", "hhuu"),
        ("FFPFF", "hhhhh"),
        ("FFPFFF", "hhhhhu"),
        ("FFFP", "hhuu"),
        ("FFFPP", "hhuuh"),
        ("FFFPFP", "hhuuuu"),
        ("FFFPFPP", "hhuuuuh"),
        ("PPPP", "hhhh"),
        // Flapping: each flip needs a full run, and a single contrary result resets the run.
        ("FFFPPFFFPP", "hhuuhhhuuh"),
        ("FFFPFPFPFP", "hhuuuuuuuu"),
        ("FFPFFPFFPFFF", "hhhhhhhhhhhu"),
    ])
    func flipsOnlyAfterAFullRunOfResults(results: String, health: String) {
        var state = HealthState()
        let shared = ServerHealth()
        var seen = ""
        for result in results {
            let before = state.isHealthy
            let transition = state.record(passed: result == "P", config)
            #expect(shared.record(passed: result == "P", config) == transition)
            #expect(shared.state == state)
            #expect(shared.isHealthy == state.isHealthy)
            switch (before, state.isHealthy) {
            case (true, false): #expect(transition == .becameUnhealthy)
            case (false, true): #expect(transition == .becameHealthy)
            default: #expect(transition == nil)
            }
            seen.append(state.isHealthy ? "h" : "u")
        }
        #expect(seen == health)
    }

    @Test func thresholdsOfOneFlipOnEveryContraryResult() {
        let eager = HealthCheckConfig(unhealthyThreshold: 1, healthyThreshold: 1)
        var state = HealthState()
        #expect(state.record(passed: false, eager) == .becameUnhealthy)
        #expect(state.record(passed: false, eager) == nil)
        #expect(state.record(passed: true, eager) == .becameHealthy)
        #expect(state.record(passed: true, eager) == nil)
    }

    @Test func countsTheRunTowardsTheOtherState() {
        var state = HealthState()
        state.record(passed: false, config)
        state.record(passed: false, config)
        #expect(state == HealthState(isHealthy: true, streak: 2))
        state.record(passed: false, config)
        #expect(state == HealthState(isHealthy: false, streak: 0))
        state.record(passed: true, config)
        #expect(state == HealthState(isHealthy: false, streak: 1))
        #expect(state.bits == UInt64(1) << 63 | 1)
        #expect(HealthState(bits: state.bits) == state)
    }

    @Test func aLoweredThresholdAppliesToTheRunCarriedOver() {
        var state = HealthState(isHealthy: true, streak: 2)
        let stricter = HealthCheckConfig(unhealthyThreshold: 2, healthyThreshold: 2)
        #expect(state.record(passed: false, stricter) == .becameUnhealthy)
    }

    @Test func reportersAtOnceLoseNoResult() {
        let many = HealthCheckConfig(unhealthyThreshold: 4_000, healthyThreshold: 2)
        let health = ServerHealth()
        let flips = SharedCounter()
        concurrently(threads: 8) { _ in
            for _ in 0..<500 {
                if health.record(passed: false, many) == .becameUnhealthy { flips.add(1) }
            }
        }
        #expect(flips.value == 1)
        #expect(health.state == HealthState(isHealthy: false, streak: 0))
    }
}
