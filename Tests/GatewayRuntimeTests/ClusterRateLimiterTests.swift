import Gateway
import Glibc
import PorticoTesting
import Reactor
import Synchronization
import Testing

@testable import GatewayRuntime

/// One gateway process's side of a cluster limit, for tests: its own loop, Redis
/// connection and limiter (separate instances on one Redis behave like separate processes).
private final class LimiterProcess: Sendable {
    typealias Verdict = ClusterRateLimiter.Verdict

    let loop: EventLoop
    let limiter: ClusterRateLimiter
    private let connection: LoopBound<RedisConnection>
    private let thread: LoopThread

    init(
        redisPort: UInt16, route: String = "api", gcra: GCRA, fallback: ClusterFallback,
        backend: ClusterBackend
    )
        throws
    {
        loop = try EventLoop()
        var settings = RedisConnection.Settings(
            address: .inet(SocketAddress(ipv4: 0x7f00_0001, port: redisPort)), password: nil, database: 0,
            timeoutNanoseconds: backend.timeoutNanoseconds)
        settings.backoffBaseNanoseconds = 10_000_000
        settings.backoffCapNanoseconds = 50_000_000
        connection = LoopBound(RedisConnection(loop: loop, settings: settings), loop: loop)
        limiter = ClusterRateLimiter(route: route, gcra: gcra, backend: backend, fallback: fallback)
        let loop = self.loop
        thread = LoopThread.start { loop.run() }
    }

    deinit {
        let connection = self.connection
        loop.execute { connection.value.close() }
        loop.stop()
        thread.join()
    }

    /// Decides requests of `keys`, all in one loop turn, and waits for every verdict.
    func decide(_ keys: [UInt64]) throws -> [Verdict] {
        let verdicts = Mutex<[Int: Verdict]>([:])
        let limiter = self.limiter
        let connection = self.connection
        let loop = self.loop
        loop.execute {
            for (index, key) in keys.enumerated() {
                let now = limiter.decide(key: key, on: loop, connection: connection.value) { verdict in
                    verdicts.withLock { $0[index] = verdict }
                }
                if let now { verdicts.withLock { $0[index] = now } }
            }
        }
        try waitUntil("\(keys.count) verdicts", timeout: .seconds(10)) {
            verdicts.withLock { $0.count } == keys.count
        }
        return verdicts.withLock { all in (0..<keys.count).map { all[$0]! } }
    }
}

private func admitted(_ verdicts: [ClusterRateLimiter.Verdict]) -> Int {
    verdicts.filter {
        if case .decided(let decision) = $0 { return decision.admitted }
        return false
    }.count
}

@Suite(
    .serialized, .timeLimit(.minutes(1)),
    .enabled(if: RedisServer.isInstalled, "redis-server is not installed (apt-get install redis-server)"))
struct ClusterRateLimiterTests {
    /// A refill so slow that no token comes back during a test: the counts are exact.
    private let gcra = GCRA(requestsPerSecond: 0.01, burst: 10)

    private func backend(cooldownMs: UInt64 = 1000) -> ClusterBackend {
        ClusterBackend(
            timeoutNanoseconds: 200_000_000,
            breaker: BackendBreaker(threshold: 3, cooldownNanoseconds: cooldownMs * 1_000_000))
    }

    @Test func twoProcessesShareOneBucket() throws {
        let redis = try RedisServer()
        let first = try LimiterProcess(redisPort: redis.port, gcra: gcra, fallback: .open, backend: backend())
        let second = try LimiterProcess(
            redisPort: redis.port, gcra: gcra, fallback: .open, backend: backend())
        let verdicts =
            try first.decide(Array(repeating: 1, count: 8)) + second.decide(Array(repeating: 1, count: 8))
        #expect(admitted(verdicts) == 10)
        for verdict in verdicts {
            guard case .decided(let decision) = verdict else {
                Issue.record("expected a decision, got \(verdict)")
                continue
            }
            if !decision.admitted { #expect(decision.retryAfterSeconds >= 1) }
        }
        // Another key has its own bucket, and so does the same key on another route.
        #expect(admitted(try second.decide([2, 2])) == 2)
        let otherRoute = try LimiterProcess(
            redisPort: redis.port, route: "other", gcra: gcra, fallback: .open, backend: backend())
        #expect(admitted(try otherRoute.decide([1])) == 1)
    }

    @Test func refusalsAreRememberedWithoutAskingRedisAgain() throws {
        let redis = try RedisServer()
        let process = try LimiterProcess(
            redisPort: redis.port, gcra: gcra, fallback: .open, backend: backend())
        #expect(admitted(try process.decide(Array(repeating: 1, count: 12))) == 10)
        let before = try redisCommandCount(redis)
        #expect(admitted(try process.decide(Array(repeating: 1, count: 50))) == 0)
        // INFO itself counts as one command.
        #expect(try redisCommandCount(redis) - before <= 1)
    }

    @Test func aFlushedScriptCacheIsRefilledTransparently() throws {
        let redis = try RedisServer()
        let process = try LimiterProcess(
            redisPort: redis.port, gcra: gcra, fallback: .closed, backend: backend())
        #expect(admitted(try process.decide([1])) == 1)
        try redisCommand(redis, ["SCRIPT", "FLUSH"])
        #expect(admitted(try process.decide([2])) == 1)
        #expect(!process.limiter.backend.isFallbackActive)
    }

    @Test(arguments: ["local", "open", "closed"])
    func aDeadRedisTurnsIntoTheFallbackNeverAHang(policy: String) throws {
        let redis = try RedisServer()
        let local = LocalRateLimitStore(gcra: GCRA(requestsPerSecond: 0.01, burst: 3), global: false)
        let fallback: ClusterFallback = policy == "local" ? .local(local) : policy == "open" ? .open : .closed
        let process = try LimiterProcess(
            redisPort: redis.port, gcra: gcra, fallback: fallback, backend: backend())
        try redis.kill()
        let verdicts = try process.decide(Array(repeating: 7, count: 6))
        switch policy {
        case "local": #expect(admitted(verdicts) == 3)
        case "open": #expect(admitted(verdicts) == 6)
        default: #expect(verdicts.allSatisfy { $0 == .unavailable(retryAfterSeconds: 1) })
        }
        // Three failed calls in a row: the breaker is open and Redis is not even asked.
        _ = try process.decide([8, 9, 10])
        #expect(process.limiter.backend.isFallbackActive)
    }

    @Test func aHungRedisTimesOutIntoTheFallbackAndRecoveryEndsIt() throws {
        let redis = try RedisServer()
        let process = try LimiterProcess(
            redisPort: redis.port, gcra: gcra, fallback: .open, backend: backend(cooldownMs: 50))
        #expect(admitted(try process.decide([1])) == 1)
        try redis.pause()
        for key in UInt64(2)...4 { #expect(admitted(try process.decide([key])) == 1) }
        #expect(process.limiter.backend.isFallbackActive)
        try redis.resume()
        // After the cooldown a probe reaches Redis again and the cluster limit is back.
        try waitUntil("the cluster limit is back", timeout: .seconds(10), interval: .milliseconds(20)) {
            _ = try process.decide([100])
            return !process.limiter.backend.isFallbackActive
        }
        #expect(admitted(try process.decide(Array(repeating: 1, count: 12))) == 9)
    }

    // MARK: Redis, directly

    private func redisCommand(_ redis: RedisServer, _ arguments: [String]) throws {
        let client = try TestClient(port: redis.port)
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments { bytes += Array("$\(argument.utf8.count)\r\n\(argument)\r\n".utf8) }
        try client.send(bytes)
        _ = try readLine(client)
    }

    /// One RESP line without its CRLF.
    private func readLine(_ client: TestClient) throws -> String {
        var line: [UInt8] = []
        while !line.suffix(2).elementsEqual([13, 10]) { line += try client.readBytes(count: 1) }
        return String(decoding: line.dropLast(2), as: UTF8.self)
    }

    /// Commands Redis has run since it started (`INFO stats`, total_commands_processed).
    private func redisCommandCount(_ redis: RedisServer) throws -> Int {
        let client = try TestClient(port: redis.port)
        try client.send(Array("*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n".utf8))
        let length = try #require(Int(try readLine(client).dropFirst()))
        let text = String(decoding: try client.readBytes(count: length), as: UTF8.self)
        let line = try #require(
            text.split(separator: "\r\n").first { $0.hasPrefix("total_commands_processed:") })
        return try #require(Int(line.split(separator: ":")[1]))
    }
}
