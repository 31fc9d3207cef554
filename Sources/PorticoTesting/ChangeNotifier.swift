import Glibc

/// Lets threads sleep until some shared state changes, without polling.
///
/// Writers mutate their state (under its own `Mutex`) and then call `notify()`; waiters call
/// `wait(until:_:)`, which re-evaluates the predicate under the notifier's lock after every
/// notification, so no change is lost between the check and the sleep.
final class ChangeNotifier: @unchecked Sendable {
    // The pthread objects must not move, so they live in manually allocated memory.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Wakes every waiter so it re-checks its predicate; call after the state has changed.
    func notify() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Blocks until `isSatisfied` returns true (then returns true) or `deadline` passes (false).
    func wait(until deadline: Deadline, _ isSatisfied: () throws -> Bool) rethrows -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if try isSatisfied() { return true }
            if deadline.hasPassed { return false }
            if deadline == .never {
                pthread_cond_wait(condition, mutex)
            } else {
                var time = timespec(
                    tv_sec: Int(deadline.nanoseconds / 1_000_000_000),
                    tv_nsec: Int(deadline.nanoseconds % 1_000_000_000))
                pthread_cond_timedwait(condition, mutex, &time)
            }
        }
    }
}
