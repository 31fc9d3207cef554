import Glibc
import RESP
import Reactor

/// One pipelined RESP2 connection to Redis (or Valkey), owned by one loop (cluster rate
/// limits: one per loop, so no lock is shared between loops).
///
/// Commands are written as they come and their replies matched in order. What it promises
/// its callers, whatever the server does:
/// - every command completes exactly once, on the loop: with its reply, or with a failure
///   no later than its timeout;
/// - a command never waits for a connection: while there is none (connecting aside), it
///   fails at once, so a caller with a fallback can use it without delay;
/// - a broken stream (a close, a reset, bytes that are not RESP, a reply over the caps) ends
///   the connection and fails every command still waiting: replies are never matched with
///   the wrong commands by trying to resynchronise;
/// - it reconnects by itself, after a capped exponential backoff with full jitter, and sends
///   `AUTH` and `SELECT` before anything else on each new connection.
final class RedisConnection: IOHandler, TimerHandler {
    /// Where Redis listens.
    enum Address: Sendable, Equatable {
        case inet(SocketAddress)
        /// A Unix-domain socket path (Redis's `unixsocket`).
        case unix(String)
    }

    struct Settings: Sendable {
        var address: Address
        var password: [UInt8]?
        var database: Int
        /// How long a command may wait for its reply.
        var timeoutNanoseconds: UInt64
        /// A server that owes a reply for this long is considered hung: the connection is
        /// dropped (and remade) rather than left to swallow every later command's time.
        var hungNanoseconds: UInt64 = 1_000_000_000
        var backoffBaseNanoseconds: UInt64 = 50_000_000
        /// Short: while it lasts the gateway cannot leave its fallback (see `ClusterBackend`).
        var backoffCapNanoseconds: UInt64 = 500_000_000
        var limits = RESPLimits()
    }

    enum Failure: Error, Equatable, Sendable {
        /// No reply within the command's timeout.
        case timeout
        /// No connection, or it broke before the reply.
        case disconnected(String)
        /// The reply stream was not RESP2 (or over a cap); the connection was dropped.
        case protocolError(String)
    }

    typealias Completion = (Result<RESPValue, Failure>) -> Void

    private enum State {
        case disconnected(retryAt: UInt64)
        case connecting(fd: Int32)
        case ready(fd: Int32)
        case closed
    }

    private struct Pending {
        /// nil once the command timed out: its reply is read and dropped.
        var completion: Completion?
        var deadline: UInt64
    }

    let loop: EventLoop
    let settings: Settings
    private var state: State = .disconnected(retryAt: 0)
    private var pending: [Pending] = []
    private var pendingHead = 0
    private var output: [UInt8] = []
    private var parser: RESPReplyParser
    private var readable = false
    private var writable = false
    private var failedConnects = 0
    private var random = SystemRandomNumberGenerator()
    private let timer = LoopTimer()
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    /// Connections made, for stats and tests.
    private(set) var connectsStarted = 0

    init(loop: EventLoop, settings: Settings) {
        self.loop = loop
        self.settings = settings
        self.parser = RESPReplyParser(limits: settings.limits)
        timer.handler = self
    }

    /// True while a connection is up (or being made).
    var isConnected: Bool {
        switch state {
        case .ready, .connecting: return true
        case .disconnected, .closed: return false
        }
    }

    /// Commands sent and not yet answered (or timed out).
    var waitingCount: Int { pending.count - pendingHead }

    /// Sends one command; `completion` runs on the loop with its reply (an error reply is a
    /// reply: `-NOSCRIPT ...` is `.success(.error(...))`) or a failure.
    func send(_ arguments: [[UInt8]], timeoutNanoseconds: UInt64? = nil, completion: @escaping Completion) {
        switch state {
        case .closed:
            completion(.failure(.disconnected("closed")))
            return
        case .disconnected(let retryAt):
            guard loop.now >= retryAt, startConnecting() else {
                completion(.failure(.disconnected("no connection to Redis")))
                return
            }
        case .connecting, .ready:
            break
        }
        let deadline = loop.now &+ (timeoutNanoseconds ?? settings.timeoutNanoseconds)
        enqueue(arguments, Pending(completion: completion, deadline: deadline))
        flush()
    }

    /// Closes for good, failing what waits.
    func close() {
        dropConnection(.disconnected("closed"), reconnect: false)
        state = .closed
        loop.cancel(timer)
    }

    // MARK: Connecting

    /// Starts a connection with AUTH and SELECT queued first; false when it failed at once.
    private func startConnecting() -> Bool {
        connectsStarted += 1
        let fd: Int32
        let started: Socket.ConnectStart
        do {
            switch settings.address {
            case .inet(let address):
                (fd, started) = try Socket.startConnect(to: address)
                Socket.setNoDelay(fd)
            case .unix(let path):
                fd = try Socket.connect(unixPath: path)
                started = .connected
            }
        } catch {
            scheduleReconnect()
            return false
        }
        do {
            try loop.register(fd, handler: self)
        } catch {
            closeDescriptor(fd)
            scheduleReconnect()
            return false
        }
        parser = RESPReplyParser(limits: settings.limits)
        readable = false
        if case .connected = started {
            state = .ready(fd: fd)
            writable = true
        } else {
            state = .connecting(fd: fd)
            writable = false
        }
        let setupDeadline = loop.now &+ max(settings.timeoutNanoseconds, 100_000_000)
        if let password = settings.password {
            enqueue([Array("AUTH".utf8), password], Pending(completion: setupReply, deadline: setupDeadline))
        }
        if settings.database != 0 {
            enqueue(
                [Array("SELECT".utf8), Array(String(settings.database).utf8)],
                Pending(completion: setupReply, deadline: setupDeadline))
        }
        return true
    }

    /// AUTH or SELECT refused: the connection is useless (every command would fail), so it
    /// is dropped and remade after the backoff.
    private func setupReply(_ result: Result<RESPValue, Failure>) {
        if case .success(.error) = result {
            dropConnection(.disconnected("Redis refused AUTH or SELECT"), reconnect: true)
        }
    }

    private func scheduleReconnect() {
        let exponent = min(failedConnects, 16)
        failedConnects += 1
        let ceiling = min(settings.backoffCapNanoseconds, settings.backoffBaseNanoseconds << UInt64(exponent))
        let wait = ceiling == 0 ? 0 : UInt64.random(in: 0...ceiling, using: &random)
        state = .disconnected(retryAt: loop.now &+ wait)
        // Reconnect on its own, so the next command finds a connection.
        loop.schedule(timer, noLaterThan: loop.now &+ wait)
    }

    // MARK: I/O

    func handleIO(_ events: IOEvents) {
        if events.contains(.writable) { writable = true }
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readable = true }
        if case .connecting(let fd) = state {
            guard writable || events.contains(.error) || events.contains(.hangup) else { return }
            let code = Socket.pendingError(fd)
            guard code == 0 else {
                dropConnection(.disconnected(SystemError("connect", errno: code).reason), reconnect: true)
                return
            }
            state = .ready(fd: fd)
            writable = true
        }
        guard case .ready = state else { return }
        flush()
        if readable { readReplies() }
    }

    private func flush() {
        guard case .ready(let fd) = state, writable, !output.isEmpty else { return }
        var written = 0
        while written < output.count {
            let attempt = output.withUnsafeBytes { bytes in
                Result { () throws(SystemError) in
                    try Socket.write(fd, from: UnsafeRawBufferPointer(rebasing: bytes[written...]))
                }
            }
            let result: IOResult
            switch attempt {
            case .success(let value): result = value
            case .failure(let error):
                dropConnection(.disconnected(error.reason), reconnect: true)
                return
            }
            guard case .processed(let count) = result else {
                writable = false
                break
            }
            written += count
        }
        output.removeFirst(written)
    }

    private func readReplies() {
        guard case .ready(let fd) = state else { return }
        while readable {
            let attempt = readBuffer.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) in try Socket.read(fd, into: buffer) }
            }
            let result: IOResult
            switch attempt {
            case .success(let value): result = value
            case .failure(let error):
                dropConnection(.disconnected(error.reason), reconnect: true)
                return
            }
            switch result {
            case .wouldBlock:
                readable = false
            case .processed(0):
                dropConnection(.disconnected("Redis closed the connection"), reconnect: true)
                return
            case .processed(let count):
                readBuffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                guard deliverReplies() else { return }
            }
        }
    }

    /// Hands out every complete reply; false when the connection was dropped.
    private func deliverReplies() -> Bool {
        while true {
            let reply: RESPValue?
            do {
                reply = try parser.next()
            } catch {
                dropConnection(.protocolError(Self.describe(error)), reconnect: true)
                return false
            }
            guard let reply else { return true }
            guard pendingHead < pending.count else {
                dropConnection(.protocolError("a reply nobody asked for"), reconnect: true)
                return false
            }
            let completion = pending[pendingHead].completion
            pending[pendingHead].completion = nil
            pendingHead += 1
            compactPending()
            failedConnects = 0
            completion?(.success(reply))
            guard case .ready = state else { return false }
        }
    }

    // MARK: Timeouts

    func timerFired(_ timer: LoopTimer) {
        let now = loop.now
        if case .disconnected(let retryAt) = state {
            // The timer may fire early (it also carries command deadlines): reconnect only
            // when the backoff is over, and keep it armed for then otherwise.
            guard now >= retryAt else {
                if retryAt != .max { loop.schedule(timer, noLaterThan: retryAt) }
                return
            }
            guard startConnecting() else { return }
        }
        var index = pendingHead
        while index < pending.count {
            if pending[index].deadline <= now, let completion = pending[index].completion {
                pending[index].completion = nil
                completion(.failure(.timeout))
                guard isConnected else { return }
            }
            index += 1
        }
        if pendingHead < pending.count, now >= pending[pendingHead].deadline &+ settings.hungNanoseconds {
            dropConnection(.disconnected("Redis owes a reply for too long"), reconnect: true)
            return
        }
        armTimer()
    }

    private func armTimer() {
        var next: UInt64?
        var index = pendingHead
        while index < pending.count {
            let due =
                pending[index].completion == nil
                ? pending[index].deadline &+ settings.hungNanoseconds : pending[index].deadline
            next = min(next ?? due, due)
            index += 1
        }
        if let next { loop.schedule(timer, noLaterThan: next) }
    }

    // MARK: Bookkeeping

    private func enqueue(_ arguments: [[UInt8]], _ entry: Pending) {
        RESPCommand.append(arguments, to: &output)
        pending.append(entry)
        loop.schedule(timer, noLaterThan: entry.deadline)
    }

    private func compactPending() {
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        } else if pendingHead >= 64 && pendingHead * 2 >= pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
    }

    /// Ends the connection and fails every command still waiting, in order.
    private func dropConnection(_ failure: Failure, reconnect: Bool) {
        switch state {
        case .connecting(let fd), .ready(let fd):
            loop.deregister(fd)
            closeDescriptor(fd)
        case .disconnected, .closed:
            break
        }
        output.removeAll(keepingCapacity: false)
        let waiting = pending[pendingHead...].compactMap(\.completion)
        pending.removeAll()
        pendingHead = 0
        if reconnect { scheduleReconnect() } else { state = .disconnected(retryAt: .max) }
        for completion in waiting { completion(.failure(failure)) }
    }

    private static func describe(_ error: RESPParseError) -> String {
        switch error {
        case .malformed(let reason), .tooLarge(let reason): return reason
        }
    }
}
