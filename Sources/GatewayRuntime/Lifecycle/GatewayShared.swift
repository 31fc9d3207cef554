import Dispatch
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

    /// A worker has no client connection left during a drain.
    func workerDrained(_ index: Int) {
        if workersLeft.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { drained.signal() }
    }
}
