import Glibc
import Reactor
import Synchronization

/// Accepts connections on one worker's socket for one listener (SO_REUSEPORT gives every
/// worker its own socket, so there is no accept lock).
final class ListenerHandler: IOHandler {
    let fd: Int32
    /// Replaced by a reload that changes the listener's settings (trusted proxies).
    var listener: RuntimeListener
    // unowned(unsafe): the worker outlives its listeners.
    unowned(unsafe) let worker: Worker
    private let acceptPause: AcceptPause

    init(fd: Int32, listener: RuntimeListener, worker: Worker) {
        self.fd = fd
        self.listener = listener
        self.worker = worker
        acceptPause = AcceptPause(loop: worker.loop, fd: fd)
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
                if AcceptPause.isResourceShortage(error) {
                    worker.shared.log.warnRateLimited(
                        "accept failed", ["listener": listener.name, "error": error.reason])
                    acceptPause.pause(self)
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

    /// Stops listening. Connections the kernel already completed wait in this socket's
    /// accept queue, and their clients believe they are connected: closing the socket would
    /// reset them, so they are accepted first and served (SO_REUSEPORT gives each worker its
    /// own queue, and a closed socket's queue is not handed to the others).
    func close() {
        if !acceptPause.cancel() { worker.loop.deregister(fd) }
        // Right before the close: a connection completed in between would be reset.
        acceptBacklog()
        closeDescriptor(fd)
    }
}
