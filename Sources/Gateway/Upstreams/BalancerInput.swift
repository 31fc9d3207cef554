/// What one pick needs from the caller besides the exclusions; each algorithm reads only its
/// part, so a caller may leave the others zero.
///
/// Two words, passed by value: the runtime fills one per request without allocating. In-flight
/// counts are not in here but a closure argument of ``Balancer/pick(_:inFlight:excluding:)``,
/// since the runtime keeps them in its own counters.
package struct BalancerInput: Sendable {
    /// A fresh random word for this pick (`random`, `least_request`). Balancers draw every
    /// random number they need from it, so the same input always gives the same pick.
    package var random: UInt64
    /// ``ConsistentHash/hash(key:)`` of the request's key (`consistent_hash`).
    package var keyHash: UInt64

    /// An input with the given random word and key hash.
    package init(random: UInt64 = 0, keyHash: UInt64 = 0) {
        self.random = random
        self.keyHash = keyHash
    }
}

/// The random numbers of one pick, derived from ``BalancerInput/random`` by SplitMix64 (the
/// generator Java's `SplittableRandom` uses): a pick may need several draws, the caller gives one word.
struct RandomDraws {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (bound > 0): the high word of `random × bound` (Lemire), which
    /// avoids a division; its bias is below bound / 2^64, nothing for server weights.
    mutating func next(below bound: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
