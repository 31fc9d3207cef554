import Gateway
import Reactor
import Synchronization

/// The shared Redis as every cluster limit of this process sees it: the breaker in front
/// of it and the settings of its calls. One per process (and configuration generation).
final class ClusterBackend: Sendable {
    /// `cluster.redis` as configured; nil for a backend made by a test.
    let config: RedisConfig?
    let timeoutNanoseconds: UInt64
    /// Told when the fallback begins (the breaker trips) and ends (a probe succeeds).
    private let onTransition: @Sendable (Transition) -> Void

    enum Transition: Sendable {
        case fallback(redis: String, cause: ClusterBackendError)
        case recovered(redis: String)
    }
    /// The breaker and the counters `/stats` shows, under one lock: taken once per call to
    /// Redis (at most one per leased batch of admissions), never per admission.
    private let state: Mutex<State>

    struct State: Sendable {
        var breaker: BackendBreaker
        var operations: UInt64 = 0
        var errors = [UInt64](repeating: 0, count: ClusterBackendError.allCases.count)
        var latency = LatencyHistogram()
    }

    init(timeoutNanoseconds: UInt64, breaker: BackendBreaker = ClusterBackend.breaker) {
        self.config = nil
        self.timeoutNanoseconds = timeoutNanoseconds
        self.state = Mutex(State(breaker: breaker))
        onTransition = { _ in }
    }

    init(config: RedisConfig, onTransition: @escaping @Sendable (Transition) -> Void = { _ in }) {
        self.config = config
        timeoutNanoseconds = UInt64(config.timeoutMs) * 1_000_000
        state = Mutex(State(breaker: Self.breaker))
        self.onTransition = onTransition
    }

    /// Three failed calls in a row trip it; a probe every 250 ms ends it as soon as Redis
    /// answers. Short, because a gateway still on its fallback while the others are back on
    /// Redis adds its local share to the fleet's limit (docs/configuration.md, "Cluster
    /// rate limits").
    static var breaker: BackendBreaker { BackendBreaker(threshold: 3, cooldownNanoseconds: 250_000_000) }

    private var redisText: String { config.map { "\($0.address)" } ?? "test" }

    /// A copy of the counters, for `/stats`.
    var counters: State { state.withLock { $0 } }

    /// How each loop connects (one `RedisConnection` per loop).
    var connectionSettings: RedisConnection.Settings? {
        config.map { config in
            RedisConnection.Settings(
                address: config.address.connectionAddress, password: config.password.map { Array($0.utf8) },
                database: config.database, timeoutNanoseconds: timeoutNanoseconds)
        }
    }

    /// Whether the fallback applies now.
    var isFallbackActive: Bool { state.withLock { $0.breaker.isOpen } }

    func allowsCall(now: UInt64) -> Bool { state.withLock { $0.breaker.allowsCall(now: now) } }

    func callSent() { state.withLock { $0.operations += 1 } }

    func callSucceeded(roundTripNanoseconds: UInt64) {
        let recovered = state.withLock { state in
            let wasOpen = state.breaker.isOpen
            state.breaker.callSucceeded()
            state.latency.record(nanoseconds: roundTripNanoseconds)
            return wasOpen
        }
        if recovered { onTransition(.recovered(redis: redisText)) }
    }

    func callFailed(_ kind: ClusterBackendError, now: UInt64) {
        let tripped = state.withLock { state in
            state.errors[ClusterBackendError.allCases.firstIndex(of: kind)!] += 1
            return state.breaker.callFailed(now: now)
        }
        if tripped { onTransition(.fallback(redis: redisText, cause: kind)) }
    }
}

extension RedisAddress {
    var connectionAddress: RedisConnection.Address {
        switch self {
        case .tcp(let address): return .inet(SocketAddress(address))
        case .unix(let path): return .unix(path)
        }
    }
}
