import Glibc

/// Stops watching a listening socket for a moment when `accept` fails for want of a
/// resource (descriptors, socket buffers, memory). Listeners are level-triggered: a
/// connection waiting in the queue keeps the socket readable, and while the accept cannot
/// succeed the loop would wake, fail and wake again at full speed. Paused, the connection
/// waits in the queue until a descriptor is free. Loop-confined.
public final class AcceptPause: TimerHandler {
    private let loop: EventLoop
    private let fd: Int32
    private let timer = LoopTimer()
    private let milliseconds: Int
    /// The acceptor while paused: deregistered, the loop no longer holds it, so this does
    /// until it is registered again.
    private var parked: (any IOHandler)?

    public init(loop: EventLoop, fd: Int32, milliseconds: Int = 100) {
        self.loop = loop
        self.fd = fd
        self.milliseconds = milliseconds
        timer.handler = self
    }

    /// Whether `error` (from accept) is a shortage that waiting can cure (accept(2): EMFILE,
    /// ENFILE, ENOBUFS, ENOMEM), rather than a problem with one connection.
    public static func isResourceShortage(_ error: SystemError) -> Bool {
        error.errno == EMFILE || error.errno == ENFILE || error.errno == ENOBUFS || error.errno == ENOMEM
    }

    public var isPaused: Bool { parked != nil }

    /// The next connection waiting on the socket, or nil when there is none now. A shortage
    /// pauses the socket with `acceptor` (its handler) parked, and is told to `shortage`.
    public func accept(for acceptor: any IOHandler, shortage: (SystemError) -> Void = { _ in }) -> Int32? {
        switch Socket.accept(fd) {
        case .connection(let client, _):
            return client
        case .wouldBlock:
            return nil
        case .failed(let error):
            if Self.isResourceShortage(error) {
                shortage(error)
                pause(acceptor)
            }
            return nil
        }
    }

    /// Deregisters `acceptor` (the socket's handler) and registers it again after the pause.
    public func pause(_ acceptor: any IOHandler) {
        guard parked == nil else { return }
        parked = acceptor
        loop.deregister(fd)
        loop.schedule(timer, inMilliseconds: milliseconds)
    }

    public func timerFired(_ timer: LoopTimer) {
        guard let acceptor = parked else { return }
        parked = nil
        try? loop.registerListener(fd, handler: acceptor)
    }

    /// Ends a pause without watching the socket again (it is closing). Returns whether one
    /// was in progress, i.e. whether the socket is not registered.
    @discardableResult
    public func cancel() -> Bool {
        loop.cancel(timer)
        defer { parked = nil }
        return parked != nil
    }
}
