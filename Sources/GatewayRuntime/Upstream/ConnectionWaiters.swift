import Reactor

/// The requests of one loop that wait for a connection to a server all of whose
/// `pool.maxConnectionsPerServer` connections (whole process) are open, first come first
/// served per server (docs/configuration.md, "Pool limits").
///
/// A wait ends when this loop pools a connection to that server, or when a connection to it
/// closes on any loop: `Worker.connectionSlotReleased` tells every loop while
/// `ServerState.waiting` is not zero. A loop that starts waiting asks the other loops to
/// close one idle connection to the server each, since a connection idle in another loop's
/// pool can never serve this one. Loop-confined.
final class ConnectionWaiters: DeferredHandler {
    /// Waiting exchanges by server stat slot, oldest first.
    private var queues: [Int: [ProxyExchange]] = [:]
    /// Exchanges waiting on this loop (read on the hot path: zero almost always).
    private(set) var count = 0
    /// Server slots to serve at the start of the next loop iteration.
    private var dueSlots: [Int] = []
    private var isDeferred = false
    // The worker owns its waiters.
    private unowned let worker: Worker

    init(worker: Worker) {
        self.worker = worker
    }

    func enqueue(_ exchange: ProxyExchange) {
        let server = exchange.server
        queues[server.statSlot, default: []].append(exchange)
        count += 1
        // Counted before the limit is checked once more (on the next iteration): a loop that
        // frees a connection meanwhile either sees the count and tells this one, or frees it
        // before the check, which then takes it (both sides sequentially consistent).
        server.state.waiting.add(1, ordering: .sequentiallyConsistent)
        serveSoon(slot: server.statSlot)
        worker.askOtherLoopsToShedIdle(server.statSlot)
    }

    /// This loop pooled a connection to the server in `slot` while requests somewhere wait
    /// for one: a waiter here takes it; else it is closed, so that a loop with a waiter can
    /// open one in its place.
    func connectionPooled(slot: Int) {
        if queues[slot]?.isEmpty == false {
            serveSoon(slot: slot)
        } else {
            worker.pool.closeIdle(slot: slot)
        }
    }

    func hasWaiters(slot: Int) -> Bool {
        queues[slot]?.isEmpty == false
    }

    /// Takes `exchange` out of its queue (its request ended or moved on while it waited).
    func remove(_ exchange: ProxyExchange) {
        let slot = exchange.server.statSlot
        guard let index = queues[slot]?.firstIndex(where: { $0 === exchange }) else { return }
        queues[slot]!.remove(at: index)
        count -= 1
        exchange.server.state.waiting.subtract(1, ordering: .relaxed)
    }

    /// Serves the waiters for the server in `slot` at the start of the next iteration: never
    /// from inside the call that freed a connection, which may be another exchange's.
    func serveSoon(slot: Int) {
        guard queues[slot]?.isEmpty == false else { return }
        if !dueSlots.contains(slot) { dueSlots.append(slot) }
        if !isDeferred {
            isDeferred = true
            worker.loop.deferToNextIteration(self)
        }
    }

    func runDeferred() {
        isDeferred = false
        let slots = dueSlots
        dueSlots.removeAll()
        for slot in slots { serve(slot) }
    }

    /// Hands idle pooled connections to the oldest waiters first, then reserves new ones for
    /// them while the server's limit allows.
    private func serve(_ slot: Int) {
        while let exchange = queues[slot]?.first {
            let server = exchange.server
            let pooled = worker.pool.take(for: server)
            if pooled == nil
                && !server.state.reserveConnection(limit: exchange.upstream.maxConnectionsPerServer)
            {
                return
            }
            queues[slot]!.removeFirst()
            count -= 1
            server.state.waiting.subtract(1, ordering: .relaxed)
            // It may connect, fail, retry and wait again (at the end of the queue) at once.
            exchange.connectionAvailable(pooled)
        }
    }
}
