import Gateway
import Reactor

/// The admin endpoint (docs/operations.md, "Admin endpoint") on its own listener and its own small loop, so a
/// slow admin client never delays traffic and the endpoint stays up during a drain.
final class AdminServer: Sendable {
    private let listener: ListenerLoop
    var address: SocketAddress { listener.address }

    init(address configured: SocketAddress, gateway: GatewayServer) throws(SystemError) {
        listener = try ListenerLoop(
            address: configured,
            makeAcceptor: { fd, loop in AdminAcceptor(fd: fd, loop: loop, gateway: gateway) },
            registrationFailed: { error in gateway.log.error("admin listener failed", ["error": error.reason])
            })
    }

    /// Closes the admin listener, stops its loop and waits for its thread.
    func stop() { listener.stop() }
}

/// Accepts admin connections. Admin connections do not count toward `maxConnections`.
private final class AdminAcceptor: IOHandler {
    let fd: Int32
    let loop: EventLoop
    let gateway: GatewayServer
    private let acceptPause: AcceptPause

    init(fd: Int32, loop: EventLoop, gateway: GatewayServer) {
        self.fd = fd
        self.loop = loop
        self.gateway = gateway
        acceptPause = AcceptPause(loop: loop, fd: fd)
    }

    func handleIO(_ events: IOEvents) {
        let log = gateway.log
        for _ in 0..<64 {
            guard
                let client = acceptPause.accept(
                    for: self,
                    shortage: {
                        log.warnRateLimited("accept failed", ["listener": "admin", "error": $0.reason])
                    })
            else { return }
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
