import Gateway
import Reactor
import Synchronization

/// The admin endpoint (SPEC section 11) on its own listener and its own small loop, so a
/// slow admin client never delays traffic and the endpoint stays up during a drain.
final class AdminServer: Sendable {
    let loop: EventLoop
    let address: SocketAddress
    private let listenFD: Int32
    private let thread = Mutex<LoopThread?>(nil)

    init(address configured: SocketAddress, gateway: GatewayServer) throws(SystemError) {
        loop = try EventLoop()
        listenFD = try Socket.listen(on: configured)
        do {
            address = try Socket.localAddress(listenFD)
        } catch {
            closeDescriptor(listenFD)
            throw error
        }
        let acceptor = LoopBound(AdminAcceptor(fd: listenFD, loop: loop, gateway: gateway), loop: loop)
        let loop = self.loop
        loop.execute { acceptor.value.start() }
        thread.withLock { $0 = LoopThread.start { loop.run() } }
    }

    /// Closes the listener, stops the loop and waits for its thread. Deregistering the
    /// acceptor on the loop also ends the cycle it forms with the loop (and frees the
    /// gateway it refers to).
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

/// Accepts admin connections. Admin connections do not count toward `maxConnections`.
private final class AdminAcceptor: IOHandler {
    let fd: Int32
    let loop: EventLoop
    let gateway: GatewayServer

    init(fd: Int32, loop: EventLoop, gateway: GatewayServer) {
        self.fd = fd
        self.loop = loop
        self.gateway = gateway
    }

    func start() {
        do {
            try loop.registerListener(fd, handler: self)
        } catch {
            gateway.log.error("admin listener failed", ["error": error.reason])
        }
    }

    func handleIO(_ events: IOEvents) {
        for _ in 0..<64 {
            guard case .connection(let client, _) = Socket.accept(fd) else { return }
            let connection = AdminConnection(fd: client, loop: loop, gateway: gateway)
            do {
                try loop.register(client, handler: connection)
                connection.retainSelf = connection
            } catch {
                closeDescriptor(client)
            }
        }
    }
}
