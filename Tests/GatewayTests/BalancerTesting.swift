import Gateway

/// A seeded SplitMix64 generator: the random source of balancer tests, so every run draws the
/// same numbers.
struct SeededRandom: RandomNumberGenerator {
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
}

/// Helpers shared by the balancer suites.
enum BalancerTesting {
    /// `ConsistentHash.hash(key:)` of a string's UTF-8 bytes.
    static func keyHash(_ key: String) -> UInt64 {
        Array(key.utf8).withUnsafeBytes { ConsistentHash.hash(key: $0) }
    }

    /// Server keys "10.0.0.1:80", "10.0.0.2:80", ... as a configuration would name them.
    static func serverKeys(_ count: Int) -> [String] {
        (0..<count).map { "10.0.0.\($0 + 1):80" }
    }

    /// The balancer `SnapshotBuilder` makes for `algorithm` over servers with these weights.
    static func balancer(_ algorithm: BalanceAlgorithm, weights: [Int]) -> Balancer {
        switch algorithm {
        case .roundRobin: .roundRobin(SmoothWeightedRoundRobin(weights: weights))
        case .leastRequest: .leastRequest(LeastRequest(weights: weights))
        case .random: .random(WeightedRandom(weights: weights))
        case .consistentHash:
            .consistentHash(ConsistentHash(serverKeys: serverKeys(weights.count), weights: weights))
        }
    }

    /// Every algorithm, for tests that hold for all of them.
    static let algorithms: [BalanceAlgorithm] = [
        .roundRobin, .leastRequest, .random, .consistentHash(.clientIP),
    ]

    /// How many picks (or keys) the distribution tests draw.
    static let samples = 100_000

    /// How far an observed share may be from the expected one. A share p observed over n
    /// independent draws has a standard deviation of sqrt(p(1 − p) / n) <= 0.5 / sqrt(n), 0.0016
    /// for n = 100,000: 0.01 is over six of them, which a correct balancer misses for about one
    /// seed in 10^9, while a wrong weighting (say weight 2 treated as 1) is off by far more.
    static let shareTolerance = 0.01

    /// How many times each server is picked in `samples` picks when each request stays in
    /// flight for the next `window` picks (the in-flight counts `least_request` reads), with
    /// fresh random words and key hashes.
    static func picksUnderLoad(
        _ balancer: Balancer, servers: Int, window: Int, seed: UInt64, samples: Int = samples
    ) -> [Int] {
        var balancer = balancer
        var random = SeededRandom(seed: seed)
        var inFlight = Array(repeating: 0, count: servers)
        var recent = Array(repeating: -1, count: window)
        var counts = Array(repeating: 0, count: servers)
        for pick in 0..<samples {
            let input = BalancerInput(random: random.next(), keyHash: random.next())
            let server = balancer.pick(input, inFlight: { inFlight[$0] }, excluding: { _ in false })!
            counts[server] += 1
            inFlight[server] += 1
            let ended = recent[pick % window]
            if ended >= 0 { inFlight[ended] -= 1 }
            recent[pick % window] = server
        }
        return counts
    }

    /// Each server's share of `counts` (picks, or weights).
    static func shares(_ counts: [Int]) -> [Double] {
        let total = Double(counts.reduce(0, +))
        return counts.map { Double($0) / total }
    }

    /// The largest difference between observed and expected shares.
    static func largestShareError(_ counts: [Int], weights: [Int]) -> Double {
        zip(shares(counts), shares(weights)).map { abs($0 - $1) }.max() ?? 0
    }
}
