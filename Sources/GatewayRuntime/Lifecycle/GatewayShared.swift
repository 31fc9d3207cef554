import Dispatch
import Reactor
import Synchronization

/// The little state all loops share: process-wide connection accounting, the access log,
/// the process log and drain bookkeeping. Atomics only; no lock on the request path.
final class GatewayShared: Sendable {
    let log: ProcessLog
    let accessLog: AccessLogWriter
    /// `limits.maxConnections`; a reload may change it.
    let maxConnections: Atomic<Int>
    /// Set once a graceful shutdown began (admin /healthz and /ready answer 503).
    let isDraining = Atomic<Bool>(false)
    let activeConnections = Atomic<Int>(0)
    let acceptedConnections = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    private let workersLeft: Atomic<Int>
    /// Every worker, for the rare message from one loop to the others (a connection freed
    /// for requests that wait for one); set at start, emptied when the loops stop.
    let workers = Mutex<[LoopBound<Worker>]>([])
    let drained = DispatchSemaphore(value: 0)

    init(log: ProcessLog, accessLog: AccessLogWriter, maxConnections: Int, workers: Int) {
        self.log = log
        self.accessLog = accessLog
        self.maxConnections = Atomic(maxConnections)
        self.workersLeft = Atomic(workers)
    }

    /// Counts a new client connection; false when `maxConnections` is reached (the caller
    /// closes it right after accept).
    func admitConnection() -> Bool {
        let now = activeConnections.add(1, ordering: .relaxed).newValue
        let limit = maxConnections.load(ordering: .relaxed)
        if limit > 0 && now > limit {
            activeConnections.subtract(1, ordering: .relaxed)
            rejectedConnections.add(1, ordering: .relaxed)
            return false
        }
        acceptedConnections.add(1, ordering: .relaxed)
        return true
    }

    func releaseConnection() {
        activeConnections.subtract(1, ordering: .relaxed)
    }

    /// The workers other than the one on `loop` (only under overload: takes a lock).
    func otherWorkers(than loop: EventLoop) -> [LoopBound<Worker>] {
        workers.withLock { all in all.filter { $0.loop !== loop } }
    }

    /// A worker has no client connection left during a drain.
    func workerDrained(_ index: Int) {
        if workersLeft.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { drained.signal() }
    }
}
