import Glibc
import Reactor
import Synchronization

/// Accepts connections on one worker's socket for one listener (SO_REUSEPORT gives every
/// worker its own socket, so there is no accept lock).
final class ListenerHandler: IOHandler, TimerHandler {
    let fd: Int32
    /// Replaced by a reload that changes the listener's settings (trusted proxies).
    var listener: RuntimeListener
    // unowned(unsafe): the worker outlives its listeners.
    unowned(unsafe) let worker: Worker
    private lazy var pauseTimer = LoopTimer(handler: self)
    private var paused = false

    init(fd: Int32, listener: RuntimeListener, worker: Worker) {
        self.fd = fd
        self.listener = listener
        self.worker = worker
    }

    func start() throws(SystemError) {
        try worker.loop.registerListener(fd, handler: self)
    }

    func handleIO(_ events: IOEvents) {
        // A bounded batch per wake-up keeps one busy listener from starving the loop's other work.
        for _ in 0..<64 {
            switch Socket.accept(fd) {
            case .connection(let clientFD, let peer):
                worker.accepted(clientFD, peer: peer, listener: listener)
            case .wouldBlock:
                return
            case .failed(let error):
                if error.errno == EMFILE || error.errno == ENFILE || error.errno == ENOBUFS
                    || error.errno == ENOMEM
                {
                    // Out of descriptors: stop watching the socket for a moment instead of
                    // spinning on a level-triggered event that cannot be served.
                    worker.shared.log.warnRateLimited(
                        "accept failed", ["listener": listener.name, "error": error.reason])
                    pause()
                }
                return
            }
        }
    }

    private func acceptBacklog() {
        // Bounded by the queue's length (Socket.listen's backlog, 1024): a flood arriving
        // while we accept must not keep the loop here for ever.
        for _ in 0..<1024 {
            guard case .connection(let clientFD, let peer) = Socket.accept(fd) else { return }
            worker.accepted(clientFD, peer: peer, listener: listener)
        }
    }

    private func pause() {
        guard !paused else { return }
        paused = true
        worker.loop.deregister(fd)
        worker.loop.schedule(pauseTimer, inMilliseconds: 100)
    }

    func timerFired(_ timer: LoopTimer) {
        guard paused else { return }
        paused = false
        try? worker.loop.registerListener(fd, handler: self)
    }

    /// Stops listening. Connections the kernel already completed wait in this socket's
    /// accept queue, and their clients believe they are connected: closing the socket would
    /// reset them, so they are accepted first and served (SO_REUSEPORT gives each worker its
    /// own queue, and a closed socket's queue is not handed to the others).
    func close() {
        worker.loop.cancel(pauseTimer)
        if !paused { worker.loop.deregister(fd) }
        // Right before the close: a connection completed in between would be reset.
        acceptBacklog()
        closeDescriptor(fd)
    }
}
