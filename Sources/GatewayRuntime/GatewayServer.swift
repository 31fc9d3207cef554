import Dispatch
import Gateway
import Reactor
import Synchronization

/// The running gateway: worker loops with their listeners, the shared state, and the
/// process-level operations (start, stop). Started and stopped from the main thread.
public final class GatewayServer: Sendable {
    private struct Running {
        var workers: [LoopBound<Worker>] = []
        var threads: [LoopThread] = []
    }

    public let log: ProcessLog
    private let shared: GatewayShared
    private let initial: RuntimeSnapshot
    private let running = Mutex<Running>(Running())
    private let boundPorts = Mutex<[String: UInt16]>([:])
    public let workerCount: Int

    /// Prepares a gateway for `config`; nothing is bound until `start()`.
    public init(config: GatewayConfig, log: ProcessLog) throws(StartError) {
        self.log = log
        guard let accessLog = AccessLogWriter(sink: config.accessLog.sink) else {
            throw StartError(message: "accessLog.path: cannot open \(config.accessLog.sink)")
        }
        workerCount = config.workers > 0 ? config.workers : availableCPUCount()
        shared = GatewayShared(
            log: log, accessLog: accessLog, maxConnections: config.limits.maxConnections, workers: workerCount
        )
        initial = SnapshotBuilder.build(config, generation: 1, previous: nil)
    }

    /// Why the gateway could not start, as the line the CLI prints.
    public struct StartError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Binds every listener on every worker (SO_REUSEPORT) and starts the loops.
    /// A listener bound to port 0 gets one ephemeral port shared by all workers.
    public func start() throws(StartError) {
        var sockets: [[Int32]] = Array(repeating: [], count: workerCount)
        var ports: [String: UInt16] = [:]
        do throws(StartError) {
            for listener in initial.listeners {
                var address = listener.address
                for worker in 0..<workerCount {
                    let fd: Int32
                    do {
                        fd = try Socket.listen(on: address)
                    } catch {
                        throw StartError(message: "listen \(listener.address): \(error.reason)")
                    }
                    sockets[worker].append(fd)
                    if address.port == 0, let bound = try? Socket.localAddress(fd) {
                        address = bound
                    }
                }
                ports[listener.name] = address.port
            }
        } catch {
            for list in sockets { for fd in list { closeDescriptor(fd) } }
            throw error
        }
        boundPorts.withLock { $0 = ports }

        var workers: [Worker] = []
        for index in 0..<workerCount {
            let loop: EventLoop
            do {
                loop = try EventLoop()
            } catch {
                throw StartError(message: "cannot create an event loop: \(error)")
            }
            let worker = Worker(index: index, loop: loop, shared: shared, snapshot: initial)
            for (listenerIndex, fd) in sockets[index].enumerated() {
                let handler = ListenerHandler(
                    fd: fd, listener: initial.listeners[listenerIndex], worker: worker)
                do {
                    try handler.start()
                } catch {
                    throw StartError(
                        message: "listen \(initial.listeners[listenerIndex].address): \(error.reason)")
                }
                worker.listeners.append(handler)
            }
            workers.append(worker)
        }
        let bound = workers.map { LoopBound($0, loop: $0.loop) }
        let threads = bound.map { worker in LoopThread.start { worker.loop.run() } }
        running.withLock {
            $0.workers = bound
            $0.threads = threads
        }
        log.info(
            "gateway started",
            [
                "generation": "\(initial.generation)", "workers": "\(workerCount)",
                "routes": "\(initial.routes.count)",
            ])
    }

    /// The port each listener (by name) is bound to.
    public func port(ofListener name: String) -> UInt16? {
        boundPorts.withLock { $0[name] }
    }

    /// Stops accepting, lets requests in flight finish for up to `drainMs`, then stops the loops.
    public func shutdown(drainMilliseconds: Int) {
        let workers = running.withLock { $0.workers }
        for worker in workers {
            worker.loop.execute { worker.value.beginDrain() }
        }
        let deadline = DispatchTime.now() + .milliseconds(max(0, drainMilliseconds))
        if shared.drained.wait(timeout: deadline) == .timedOut {
            log.warn(
                "drain time is up; closing the remaining connections", ["drainMs": "\(drainMilliseconds)"])
        }
        stopLoops()
    }

    /// Closes everything at once and stops the loops.
    public func stopNow() {
        stopLoops()
    }

    private func stopLoops() {
        let (workers, threads) = running.withLock { state in
            let taken = (state.workers, state.threads)
            state.workers = []
            state.threads = []
            return taken
        }
        for worker in workers {
            worker.loop.execute {
                worker.value.closeAll()
                worker.loop.stop()
            }
        }
        for thread in threads { thread.join() }
        shared.accessLog.stop()
    }
}
