import GatewayRuntime
import Glibc
import Reactor
import Synchronization

/// The main thread's job after start-up: wait for signals and act on them.
final class Supervisor: Sendable {
    let server: GatewayServer
    let log: ProcessLog
    private let stopped = Atomic<Bool>(false)

    init(server: GatewayServer, log: ProcessLog) {
        self.server = server
        self.log = log
    }

    /// Returns the exit status once the gateway has stopped.
    func run(signals: SignalSource) -> Int32 {
        var draining = false
        while !stopped.load(ordering: .acquiring) {
            guard let signal = signals.wait(timeoutMilliseconds: 100) else { continue }
            switch signal {
            case SIGTERM, SIGINT:
                if draining {
                    log.warn("second stop signal; exiting now")
                    return 0
                }
                draining = true
                let supervisor = self
                _ = LoopThread.start {
                    supervisor.server.shutdown()
                    supervisor.stopped.store(true, ordering: .releasing)
                }
            case SIGHUP:
                if draining {
                    log.warn("reload ignored during shutdown")
                } else {
                    _ = server.reload()
                }
            default:
                break
            }
        }
        log.info("stopped")
        return 0
    }
}
