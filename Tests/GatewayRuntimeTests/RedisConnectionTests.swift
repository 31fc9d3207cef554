import Gateway
import Glibc
import PorticoTesting
import RESP
import Reactor
import Synchronization
import Testing

@testable import GatewayRuntime

/// A `RedisConnection` on an event loop of its own, driven from the test thread.
private final class LoopRedisClient: Sendable {
    typealias Outcome = Result<RESPValue, RedisConnection.Failure>

    let loop: EventLoop
    private let connection: LoopBound<RedisConnection>
    private let thread: LoopThread

    init(
        port: UInt16, password: String? = nil, database: Int = 0, timeoutMilliseconds: UInt64 = 200,
        limits: RESPLimits = RESPLimits()
    ) throws {
        loop = try EventLoop()
        var settings = RedisConnection.Settings(
            address: .inet(SocketAddress(ipv4: 0x7f00_0001, port: port)),
            password: password.map { Array($0.utf8) },
            database: database, timeoutNanoseconds: timeoutMilliseconds * 1_000_000)
        settings.limits = limits
        // Short backoff so reconnect tests do not wait long; the cap still applies.
        settings.backoffBaseNanoseconds = 10_000_000
        settings.backoffCapNanoseconds = 100_000_000
        connection = LoopBound(RedisConnection(loop: loop, settings: settings), loop: loop)
        let loop = self.loop
        thread = LoopThread.start { loop.run() }
    }

    deinit {
        let connection = self.connection
        loop.execute { connection.value.close() }
        loop.stop()
        thread.join()
    }

    /// Sends `commands` in one loop turn (so they are pipelined) and waits for every outcome.
    func send(_ commands: [[String]], timeoutMilliseconds: UInt64? = nil) throws -> [Outcome] {
        let outcomes = Mutex<[Int: Outcome]>([:])
        let connection = self.connection
        loop.execute {
            for (index, command) in commands.enumerated() {
                connection.value.send(
                    command.map { Array($0.utf8) },
                    timeoutNanoseconds: timeoutMilliseconds.map { $0 * 1_000_000 }
                ) { outcome in
                    outcomes.withLock { $0[index] = outcome }
                }
            }
        }
        try waitUntil("\(commands.count) Redis replies", timeout: .seconds(10)) {
            outcomes.withLock { $0.count } == commands.count
        }
        return outcomes.withLock { all in (0..<commands.count).map { all[$0]! } }
    }

    func send(_ command: String...) throws -> Outcome { try send([command])[0] }

    /// Reads a value owned by the loop.
    func onLoop<T: Sendable>(_ read: @escaping @Sendable (RedisConnection) -> T) throws -> T {
        let box = Mutex<T?>(nil)
        let connection = self.connection
        loop.execute { box.withLock { $0 = read(connection.value) } }
        try waitUntil("the loop answers") { box.withLock { $0 != nil } }
        return box.withLock { $0! }
    }

    /// Sends `command` until it succeeds (after a reconnect), returning its reply.
    func sendUntilAnswered(_ command: String...) throws -> RESPValue {
        var reply: RESPValue?
        try waitUntil("Redis answers \(command[0]) again", timeout: .seconds(10), interval: .milliseconds(20))
        {
            if case .success(let value) = try send([command])[0] { reply = value }
            return reply != nil
        }
        return reply!
    }
}

private func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

private func isDisconnected(_ outcome: LoopRedisClient.Outcome) -> Bool {
    if case .failure(.disconnected) = outcome { return true }
    return false
}

@Suite(
    .serialized, .timeLimit(.minutes(1)),
    .enabled(if: RedisServer.isInstalled, "redis-server is not installed (apt-get install redis-server)"))
struct RedisConnectionTests {
    @Test func pipelinedRepliesCompleteTheirOwnCommandsInOrder() throws {
        let redis = try RedisServer()
        let client = try LoopRedisClient(port: redis.port)
        let commands = (1...500).map { _ in ["INCR", "counter"] } + [["ECHO", "last"]]
        let outcomes = try client.send(commands)
        for (index, outcome) in outcomes.dropLast().enumerated() {
            #expect(outcome == .success(.integer(Int64(index + 1))))
        }
        #expect(outcomes.last == .success(bulk("last")))
        // One connection carried all of them.
        #expect(try client.onLoop { $0.connectsStarted } == 1)
    }

    @Test func anErrorReplyIsAReplyAndTheStreamGoesOn() throws {
        let redis = try RedisServer()
        let client = try LoopRedisClient(port: redis.port)
        let outcomes = try client.send([["EVALSHA", String(repeating: "0", count: 40), "0"], ["PING"]])
        guard case .success(.error(let message)) = outcomes[0] else {
            Issue.record("expected NOSCRIPT, got \(outcomes[0])")
            return
        }
        #expect(String(decoding: message, as: UTF8.self).hasPrefix("NOSCRIPT"))
        #expect(outcomes[1] == .success(.simpleString(Array("PONG".utf8))))
    }

    @Test func runsTheClusterGCRAScript() throws {
        let redis = try RedisServer()
        let client = try LoopRedisClient(port: redis.port)
        let gcra = GCRA(requestsPerSecond: 10, burst: 5)
        let key = String(decoding: ClusterGCRAScript.key(route: "api", clientKey: 42), as: UTF8.self)
        let arguments = ClusterGCRAScript.arguments(gcra, wanted: 3).map {
            String(decoding: $0, as: UTF8.self)
        }
        let command = ["EVAL", ClusterGCRAScript.source, "1", key] + arguments
        let grants = try client.send([command, command, command]).map { outcome -> ClusterGrant? in
            guard case .success(.array(let values?)) = outcome else { return nil }
            let integers = values.compactMap { value -> Int64? in
                if case .integer(let number) = value { return number }
                return nil
            }
            return ClusterGrant(reply: integers, wanted: 3)
        }
        // A burst of 5: 3 granted, then the 2 left (a partial grant), then none.
        #expect(grants.map { $0?.granted } == [3, 2, 0])
        #expect((grants[2]?.retryAfterNanoseconds ?? 0) > 0)
        guard case .success(.integer(let ttl)) = try client.send("PTTL", key) else {
            Issue.record("PTTL failed")
            return
        }
        #expect(ttl > 0 && ttl <= 501)
    }

    /// The limiter names its script by SHA-1 without asking Redis; after `SCRIPT FLUSH` (as
    /// after a restart or failover) `EVALSHA` answers NOSCRIPT and one `EVAL` caches it again.
    @Test func theScriptsNameIsTheOneRedisGivesItAndEVALRestoresAFlushedCache() throws {
        let redis = try RedisServer()
        let client = try LoopRedisClient(port: redis.port)
        let sha = String(decoding: ClusterGCRAScript.sha1, as: UTF8.self)
        #expect(try client.send("SCRIPT", "LOAD", ClusterGCRAScript.source) == .success(bulk(sha)))
        let gcra = GCRA(requestsPerSecond: 10, burst: 5)
        let key = ClusterGCRAScript.key(route: "api", clientKey: 7)
        let text = { (call: [[UInt8]]) in call.map { String(decoding: $0, as: UTF8.self) } }
        let cached = text(ClusterGCRAScript.cachedCall(key: key, gcra, wanted: 1))
        guard case .success(let first) = try client.send([cached])[0] else {
            Issue.record("EVALSHA failed")
            return
        }
        #expect(
            ClusterReply(first, wanted: 1) == .grant(ClusterGrant(reply: [1, 4, 100_000, 0], wanted: 1)!))
        #expect(try client.send("SCRIPT", "FLUSH") == .success(.simpleString(Array("OK".utf8))))
        guard case .success(let missing) = try client.send([cached])[0] else {
            Issue.record("EVALSHA failed")
            return
        }
        #expect(ClusterReply(missing, wanted: 1) == .scriptMissing)
        let full = text(ClusterGCRAScript.fullCall(key: key, gcra, wanted: 1))
        guard case .success(let again) = try client.send([full, cached])[1] else {
            Issue.record("EVALSHA after EVAL failed")
            return
        }
        guard case .grant = ClusterReply(again, wanted: 1) else {
            Issue.record("expected a grant once EVAL cached the script, got \(again)")
            return
        }
    }

    @Test func authenticatesAndSelectsTheDatabaseBeforeAnyCommand() throws {
        let redis = try RedisServer(password: "s3cret pass")
        let client = try LoopRedisClient(port: redis.port, password: "s3cret pass", database: 2)
        guard case .success(.bulkString(let info?)) = try client.send("CLIENT", "INFO") else {
            Issue.record("CLIENT INFO failed")
            return
        }
        #expect(String(decoding: info, as: UTF8.self).contains(" db=2 "))
    }

    @Test func aRefusedPasswordFailsTheCommandsInsteadOfRunningThemUnauthenticated() throws {
        let redis = try RedisServer(password: "right")
        let client = try LoopRedisClient(port: redis.port, password: "wrong")
        let outcome = try client.send("PING")
        #expect(outcome == .failure(.disconnected("Redis refused AUTH or SELECT")))
    }

    @Test func aPausedServerTimesCommandsOutAndIsDroppedWhenItOwesTooLong() throws {
        let redis = try RedisServer()
        let client = try LoopRedisClient(port: redis.port, timeoutMilliseconds: 50)
        #expect(try client.send("PING") == .success(.simpleString(Array("PONG".utf8))))
        try redis.pause()
        #expect(try client.send("PING") == .failure(.timeout))
        // Owing a reply for over a second, the connection is dropped rather than kept.
        try waitUntil("the hung connection is dropped", timeout: .seconds(5)) {
            try client.onLoop { $0.connectsStarted } >= 2
        }
        try redis.resume()
        #expect(try client.sendUntilAnswered("PING") == .simpleString(Array("PONG".utf8)))
    }

    @Test func aKilledServerFailsWhatWaitsAndTheClientReconnectsWhenItReturns() throws {
        let redis = try RedisServer()
        // Timeouts far beyond the test's waits: every failure seen is the connection's.
        let client = try LoopRedisClient(port: redis.port, timeoutMilliseconds: 60_000)
        #expect(try client.send("SET", "k", "v") == .success(.simpleString(Array("OK".utf8))))
        // A command in flight when the server dies fails with the connection, not by timeout.
        let slow = ["BLPOP", "never-pushed", "30"]
        let waiting = Mutex<[LoopRedisClient.Outcome]>([])
        let blocked = LoopThread.start { [client] in
            let outcome = (try? client.send([slow]))?.first ?? .failure(.timeout)
            waiting.withLock { $0.append(outcome) }
        }
        try waitUntil("BLPOP waits") { try client.onLoop { $0.waitingCount } == 1 }
        try redis.kill()
        blocked.join()
        #expect(waiting.withLock { $0.map(isDisconnected) } == [true])
        // With no server, commands fail at once (waitUntil gives up after 10 s) instead of
        // waiting for their timeout.
        #expect(isDisconnected(try client.send("PING")))
        try redis.start()
        #expect(try client.sendUntilAnswered("PING") == .simpleString(Array("PONG".utf8)))
        #expect(try client.onLoop { $0.connectsStarted } >= 2)
    }

    @Test func bytesThatAreNotRESPEndTheConnectionAndFailEveryWaitingCommand() throws {
        let listener = try Socket.listen(on: SocketAddress(ipv4: 0x7f00_0001, port: 0))
        defer { closeDescriptor(listener) }
        let port = try Socket.localAddress(listener).port
        let server = LoopThread.start {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 5000) == 1 else { return }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 1024)
            var reader = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&reader, 1, 5000)
            _ = read(fd, &buffer, buffer.count)
            let garbage = Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8)
            _ = write(fd, garbage, garbage.count)
            _ = poll(&reader, 1, 5000)
            closeDescriptor(fd)
        }
        defer { server.join() }
        let client = try LoopRedisClient(port: port, timeoutMilliseconds: 2000)
        let outcomes = try client.send([["PING"], ["PING"], ["PING"]])
        for outcome in outcomes {
            guard case .failure(.protocolError) = outcome else {
                Issue.record("expected a protocol error, got \(outcome)")
                continue
            }
        }
    }

    @Test func aReplyOverTheCapsEndsTheConnection() throws {
        let redis = try RedisServer()
        var limits = RESPLimits()
        limits.maxBulkBytes = 1024
        let client = try LoopRedisClient(port: redis.port, limits: limits)
        let big = String(repeating: "x", count: 4096)
        #expect(try client.send("SET", "big", big) == .success(.simpleString(Array("OK".utf8))))
        let outcomes = try client.send([["GET", "big"], ["PING"]])
        for outcome in outcomes {
            guard case .failure(.protocolError) = outcome else {
                Issue.record("expected a protocol error, got \(outcome)")
                continue
            }
        }
        // The next connection works again.
        #expect(try client.sendUntilAnswered("PING") == .simpleString(Array("PONG".utf8)))
    }

    @Test func withNoServerCommandsFailAtOnce() throws {
        let port = try ProcessRunner.freePort()
        let client = try LoopRedisClient(port: port, timeoutMilliseconds: 60_000)
        for _ in 0..<5 {
            #expect(isDisconnected(try client.send("PING")))
        }
    }
}
