import Glibc
import Synchronization

/// Runs `body(index)` on `threads` POSIX threads at once and returns when all have finished.
///
/// More threads than cores on purpose: the scheduler then preempts threads between a load and
/// its compare-and-swap, the interleavings the shared policies must survive. The threads wait
/// for each other before starting, so their work overlaps.
func concurrently(threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let ready = SharedCounter()
    let handles = (0..<threads).map { index in
        ThreadStart.spawn {
            ready.add(1)
            while ready.value < threads { sched_yield() }
            body(index)
        }
    }
    for handle in handles {
        let result = pthread_join(handle, nil)
        precondition(result == 0, "pthread_join failed: \(result)")
    }
}

/// An integer that threads of a test count into.
final class SharedCounter: Sendable {
    private let atomic = Atomic<Int>(0)

    /// The count now.
    var value: Int { atomic.load(ordering: .relaxed) }

    /// Adds `amount`; returns the new count.
    @discardableResult
    func add(_ amount: Int) -> Int {
        atomic.add(amount, ordering: .relaxed).newValue
    }

    /// Raises the count to `candidate` if it is higher: a running maximum.
    func raise(to candidate: Int) {
        var current = atomic.load(ordering: .relaxed)
        while current < candidate {
            let (exchanged, original) = atomic.compareExchange(
                expected: current, desired: candidate, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}

private final class ThreadStart {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }

    static func spawn(_ run: @escaping @Sendable () -> Void) -> pthread_t {
        let context = Unmanaged.passRetained(ThreadStart(run)).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle, nil,
            { context in
                Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue().run()
                return nil
            }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        return handle
    }
}
