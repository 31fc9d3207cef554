import Gateway
import Reactor

/// One TCP connection to an upstream server, owned by one loop.
///
/// While an exchange uses it, readiness goes to that exchange; while it sits in the pool,
/// any input (a close, or stray bytes) makes it useless and it is closed.
final class UpstreamConnection: IOHandler, TimerHandler {
    enum Phase {
        case connecting
        case active
        case idle
        case closed
    }

    let fd: Int32
    // Strong (a `let` is used without reference counting, unlike an unowned one): the cycle
    // with the worker's pool ends when the connection closes.
    let worker: Worker
    let server: RuntimeServer
    var phase: Phase
    var input: ByteBuffer
    var output: ByteBuffer
    /// Edge-triggered readiness remembered between events.
    var readable = false
    var writable = false
    /// epoll reported a hangup: keep reading until the end of the stream is seen.
    var hangupSeen = false

    /// Readiness or a hangup was reported that no read has consumed: between requests that
    /// means the server closed the connection or sent stray bytes, so it must not be reused.
    var peerMayHaveClosed: Bool { hangupSeen || readable }
    /// The exchange using this connection; nil while pooled. unowned(unsafe): the exchange
    /// always detaches (sets this to nil) before it ends, and a weak reference would cost a
    /// side-table allocation per request.
    unowned(unsafe) var exchange: ProxyExchange?
    /// Connect timeout while connecting, idle timeout while pooled. For the idle timeout it
    /// is armed lazily (see `idleDue`), so pooling and reusing a connection on every request
    /// costs no timer heap operation.
    let timer = LoopTimer()
    /// When the pooled connection has been idle too long; nil when not pooled (or pooled
    /// without an idle timeout). The timer may fire earlier (it is never moved later); it
    /// then re-checks this.
    var idleDue: Instant?

    init(fd: Int32, worker: Worker, server: RuntimeServer, connected: Bool, bufferBytes: Int) {
        self.fd = fd
        self.worker = worker
        self.server = server
        self.phase = connected ? .active : .connecting
        self.input = ByteBuffer(capacity: bufferBytes, pool: worker.buffers)
        self.output = ByteBuffer(capacity: bufferBytes, pool: worker.buffers)
        self.writable = connected
        timer.handler = self
    }

    func handleIO(_ events: IOEvents) {
        if events.contains(.writable) { writable = true }
        if !events.intersection([.readable, .readHangup, .hangup, .error]).isEmpty { readable = true }
        if !events.intersection([.readHangup, .hangup, .error]).isEmpty { hangupSeen = true }
        switch phase {
        case .connecting:
            guard writable || events.contains(.error) || events.contains(.hangup) else { return }
            worker.loop.cancel(timer)
            let code = Socket.pendingError(fd)
            if code == 0 {
                phase = .active
                writable = true
                exchange?.upstreamConnected()
            } else {
                exchange?.upstreamConnectFailed(SystemError("connect", errno: code).reason)
            }
        case .active:
            exchange?.upstreamReady()
        case .idle:
            if readable { worker.pool.discard(self) }
        case .closed:
            break
        }
    }

    func timerFired(_ timer: LoopTimer) {
        switch phase {
        case .connecting:
            exchange?.upstreamConnectFailed("connect timed out")
        case .idle:
            guard let idleDue else { return }  // pooled without an idle timeout
            if worker.loop.instant < idleDue {
                worker.loop.schedule(timer, noLaterThan: idleDue)
                return
            }
            worker.pool.discard(self)
        case .active, .closed:
            break
        }
    }

    /// Writes pending output; false when the connection failed.
    func flush() -> Bool {
        guard writable, !output.isEmpty else { return true }
        switch output.flush(to: fd) {
        case .flushed: return true
        case .wouldBlock:
            writable = false
            return true
        case .failed: return false
        }
    }

    /// Closes the socket; `reset` sends RST so the server stops work at once (cancellation).
    func close(reset: Bool = false) {
        guard phase != .closed else { return }
        phase = .closed
        exchange = nil
        worker.loop.cancel(timer)
        worker.loop.deregister(fd)
        if reset { Socket.setResetOnClose(fd) }
        closeDescriptor(fd)
        input.releaseIfEmpty()
        worker.upstreamClosed(self)
    }
}
