import Reactor
import Synchronization

/// One listening socket served on its own small loop and thread: the shell the admin
/// endpoint and `portico echo` share (neither should ever wait behind proxied traffic).
final class ListenerLoop: Sendable {
    let loop: EventLoop
    /// The bound address (its port is real even when asked for port 0).
    let address: SocketAddress
    private let listenFD: Int32
    private let thread = Mutex<LoopThread?>(nil)

    /// Listens on `address` and starts the loop with the handler `makeAcceptor` returns
    /// registered for the listening descriptor; `registrationFailed` hears (on the loop) if
    /// that registration fails.
    init(
        address configured: SocketAddress, makeAcceptor: (_ fd: Int32, _ loop: EventLoop) -> any IOHandler,
        registrationFailed: @escaping @Sendable (SystemError) -> Void
    ) throws(SystemError) {
        let loop = try EventLoop()
        // Refused, like the package listeners, when another process listens there already:
        // otherwise both would share the address (docs/operations.md, "Listener addresses").
        try Socket.checkNoListener(on: configured)
        let fd = try Socket.listen(on: configured)
        do {
            address = try Socket.localAddress(fd)
        } catch {
            closeDescriptor(fd)
            throw error
        }
        self.loop = loop
        listenFD = fd
        let acceptor = LoopBound(makeAcceptor(fd, loop), loop: loop)
        loop.execute {
            do throws(SystemError) {
                try loop.registerListener(fd, handler: acceptor.value)
            } catch {
                registrationFailed(error)
            }
        }
        thread.withLock { $0 = LoopThread.start { loop.run() } }
    }

    /// Closes the listener, stops the loop and waits for its thread. Deregistering the
    /// acceptor on the loop also ends the cycle it forms with the loop (and frees what it
    /// refers to).
    func stop() {
        let loop = self.loop
        let fd = listenFD
        loop.execute {
            loop.deregister(fd)
            closeDescriptor(fd)
            loop.stop()
        }
        let running = thread.withLock { current -> LoopThread? in
            let taken = current
            current = nil
            return taken
        }
        running?.join()
    }
}
