import Synchronization

/// One server's active-health state, shared by every worker: the packed ``HealthState`` in one
/// `Atomic<UInt64>`.
///
/// One place runs the probes and reports their results with ``record(passed:_:)`` (a
/// compare-and-swap loop, so even two reporters cannot lose a result); every worker reads
/// ``isHealthy`` with one relaxed load, since the word publishes no other memory.
package final class ServerHealth: Sendable {
    private let word: Atomic<UInt64>

    /// A server in `state`; a fresh one is healthy.
    package init(_ state: HealthState = HealthState()) {
        word = Atomic(state.bits)
    }

    /// Whether the balancer may pick the server (one load).
    package var isHealthy: Bool {
        HealthState(bits: word.load(ordering: .relaxed)).isHealthy
    }

    /// The state as of now (one load).
    package var state: HealthState {
        HealthState(bits: word.load(ordering: .relaxed))
    }

    /// Marks the server healthy with no run of failures, as a fresh one: a health check that
    /// starts (again) says nothing yet about the server.
    package func reset() {
        word.store(HealthState().bits, ordering: .relaxed)
    }

    /// Reports one probe's result; see ``HealthState/record(passed:_:)``.
    @discardableResult
    package func record(passed: Bool, _ config: HealthCheckConfig) -> HealthTransition? {
        var expected = word.load(ordering: .relaxed)
        while true {
            var state = HealthState(bits: expected)
            let transition = state.record(passed: passed, config)
            if state.bits == expected { return transition }
            let (exchanged, original) = word.compareExchange(
                expected: expected, desired: state.bits, ordering: .relaxed)
            if exchanged { return transition }
            expected = original
        }
    }
}

/// A change of a server's health, worth a line in the process log.
package enum HealthTransition: Sendable, Hashable {
    /// `unhealthyThreshold` probes failed in a row: the server is taken out.
    case becameUnhealthy
    /// `healthyThreshold` probes passed in a row: the server is put back.
    case becameHealthy
}

/// A server's health as its active probes have found it (docs/configuration.md, `healthCheck`),
/// packed into one `UInt64` so ``ServerHealth`` can share it with one atomic.
///
/// A server starts healthy. While healthy, `unhealthyThreshold` failed probes in a row take it
/// out; while unhealthy, `healthyThreshold` passed probes in a row put it back. A result that
/// agrees with the current state ends the run of disagreeing ones.
///
/// Packing: bit 63 set when unhealthy (so the all-zero word is a fresh, healthy server); bits
/// 31–0 the run of results disagreeing with the state, which stops at the threshold (at most
/// 65535, docs/configuration.md) because reaching it flips the state. Bits 62–32 are zero.
package struct HealthState: Sendable, Hashable {
    /// The packed word.
    package private(set) var bits: UInt64

    /// A fresh server: healthy, no failed probe yet.
    package init() {
        bits = 0
    }

    /// A server healthy or not, with `streak` results in a row pointing the other way.
    package init(isHealthy: Bool, streak: Int = 0) {
        precondition(streak >= 0 && streak <= Int(UInt32.max), "streak \(streak) does not fit the packing")
        bits = (isHealthy ? 0 : Self.unhealthyBit) | UInt64(streak)
    }

    /// The state a packed word holds; a word no state packs to is a bug and traps.
    package init(bits: UInt64) {
        precondition(bits & ~(Self.unhealthyBit | Self.streakMask) == 0, "no health state packs to \(bits)")
        self.bits = bits
    }

    /// Whether the server takes traffic.
    package var isHealthy: Bool {
        bits & Self.unhealthyBit == 0
    }

    /// Results in a row that disagree with ``isHealthy``: failures while healthy, passes while
    /// unhealthy.
    package var streak: Int {
        Int(bits & Self.streakMask)
    }

    /// Reports one probe's result; returns the transition when the server flips.
    @discardableResult
    package mutating func record(passed: Bool, _ config: HealthCheckConfig) -> HealthTransition? {
        guard passed != isHealthy else {
            bits &= Self.unhealthyBit
            return nil
        }
        let wasHealthy = isHealthy
        let threshold = wasHealthy ? config.unhealthyThreshold : config.healthyThreshold
        let streak = Swift.min((bits & Self.streakMask) + 1, Self.streakMask)
        guard streak >= UInt64(Swift.max(threshold, 1)) else {
            bits = (bits & Self.unhealthyBit) | streak
            return nil
        }
        bits = wasHealthy ? Self.unhealthyBit : 0
        return wasHealthy ? .becameUnhealthy : .becameHealthy
    }

    private static let unhealthyBit: UInt64 = 1 << 63
    private static let streakMask: UInt64 = (1 << 32) - 1
}
