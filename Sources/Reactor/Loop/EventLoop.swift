import CLinux
import Glibc
import Synchronization

/// One epoll loop on one thread: I/O readiness, timers, deferred work and a task queue
/// that other threads can post to.
///
/// Everything except `execute(_:)`, `stop()` and `isCurrent` is loop-confined: call it
/// only from the loop's own thread (from a handler, a timer or a task).
public final class EventLoop: @unchecked Sendable {
    // @unchecked Sendable: the only members touched from other threads are `tasks` (a Mutex),
    // `wakeFD` (an eventfd, written with write(2), which is thread-safe) and `stopRequested`
    // (an Atomic). All other state is confined to the loop thread.

    private let epollFD: Int32
    private let wakeFD: Int32
    private var handlers: [Slot] = []
    private var timers = TimerHeap()
    private var deferred: [any DeferredHandler] = []
    private var deferredSpare: [any DeferredHandler] = []
    private let tasks = Mutex<[@Sendable () -> Void]>([])
    private let stopRequested = Atomic<Bool>(false)
    private let wakePending = Atomic<Bool>(false)
    private var threadID: pthread_t?
    private var nextGeneration: UInt32 = 1
    private var events: UnsafeMutablePointer<epoll_event>
    private let maxEvents = 256

    /// Monotonic nanoseconds, read once per loop iteration (and after each wait).
    public private(set) var now: UInt64
    /// Counts loop iterations. Work done in an earlier iteration has fully returned to the
    /// loop, which lets owners recycle objects safely (see the gateway's exchange reuse).
    public private(set) var iteration: UInt64 = 0

    private struct Slot {
        var handler: (any IOHandler)?
        var generation: UInt32
    }

    public init() throws(SystemError) {
        let ep = clinux_epoll_create()
        guard ep >= 0 else { throw SystemError("epoll_create1", errno: errno) }
        let wake = clinux_eventfd()
        guard wake >= 0 else {
            closeDescriptor(ep)
            throw SystemError("eventfd", errno: errno)
        }
        epollFD = ep
        wakeFD = wake
        events = .allocate(capacity: maxEvents)
        now = monotonicNanoseconds()
        // The wake descriptor is slot-less: data 0 with generation 0 marks it.
        guard clinux_epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, EPOLLIN.rawValue, UInt64.max) == 0 else {
            throw SystemError("epoll_ctl", errno: errno)
        }
    }

    deinit {
        events.deallocate()
        closeDescriptor(wakeFD)
        closeDescriptor(epollFD)
    }

    /// Whether the caller runs on this loop's thread.
    public var isCurrent: Bool {
        guard let threadID else { return false }
        return pthread_equal(threadID, pthread_self()) != 0
    }

    // MARK: Descriptors

    /// Watches `fd` edge-triggered for input, output and peer shutdown, for life.
    ///
    /// Interest never changes afterwards (no epoll_ctl per request): handlers remember
    /// readiness themselves and retry I/O until it would block.
    public func register(_ fd: Int32, handler: any IOHandler) throws(SystemError) {
        let mask = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        try register(fd, mask: mask, handler: handler)
    }

    /// Watches a listening socket, level-triggered for input only.
    public func registerListener(_ fd: Int32, handler: any IOHandler) throws(SystemError) {
        try register(fd, mask: EPOLLIN.rawValue, handler: handler)
    }

    private func register(_ fd: Int32, mask: UInt32, handler: any IOHandler) throws(SystemError) {
        let index = Int(fd)
        if index >= handlers.count {
            handlers.append(
                contentsOf: repeatElement(
                    Slot(handler: nil, generation: 0), count: index + 1 - handlers.count))
        }
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        let generation = nextGeneration
        let data = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
        guard clinux_epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, mask, data) == 0 else {
            throw SystemError("epoll_ctl", errno: errno)
        }
        handlers[index] = Slot(handler: handler, generation: generation)
    }

    /// Stops watching `fd`. Call before closing it; events already fetched for it are dropped.
    public func deregister(_ fd: Int32) {
        let index = Int(fd)
        guard index < handlers.count, handlers[index].handler != nil else { return }
        handlers[index] = Slot(handler: nil, generation: 0)
        _ = clinux_epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, 0, 0)
    }

    // MARK: Timers

    /// Schedules (or moves) `timer` to fire at `deadline` monotonic nanoseconds.
    public func schedule(_ timer: LoopTimer, at deadline: UInt64) {
        if timer.isScheduled {
            if timer.deadline == deadline { return }
            timers.remove(timer)
        }
        timer.deadline = deadline
        timers.insert(timer)
    }

    /// Schedules `timer` to fire `milliseconds` from now.
    public func schedule(_ timer: LoopTimer, inMilliseconds milliseconds: Int) {
        schedule(timer, at: now &+ UInt64(max(0, milliseconds)) &* 1_000_000)
    }

    /// Makes sure `timer` fires no later than `deadline`: moves it only when it would fire
    /// later (or is not scheduled). Owners that re-arm often keep their own due time and
    /// re-check it when the timer fires early, so steady traffic costs no heap operation.
    public func schedule(_ timer: LoopTimer, noLaterThan deadline: UInt64) {
        if timer.isScheduled && timer.deadline <= deadline { return }
        schedule(timer, at: deadline)
    }

    public func cancel(_ timer: LoopTimer) {
        if timer.isScheduled { timers.remove(timer) }
    }

    // MARK: Deferred work and tasks

    /// Calls `handler.runDeferred()` at the start of the next iteration, before waiting.
    public func deferToNextIteration(_ handler: any DeferredHandler) {
        deferred.append(handler)
    }

    /// Runs `task` on the loop thread soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        tasks.withLock { $0.append(task) }
        wake()
    }

    /// Asks the loop to return from `run()` after the current iteration. Safe from any thread.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        wake()
    }

    private func wake() {
        if wakePending.exchange(true, ordering: .acquiringAndReleasing) { return }
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { Glibc.write(wakeFD, $0.baseAddress, 8) }
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop()`.
    public func run() {
        threadID = pthread_self()
        while !stopRequested.load(ordering: .acquiring) {
            runOnce()
        }
        runTasks()
    }

    private func runOnce() {
        let timeout: Int32
        if !deferred.isEmpty {
            timeout = 0
        } else if let earliest = timers.earliest {
            let current = monotonicNanoseconds()
            timeout =
                earliest.deadline <= current
                ? 0 : Int32(clamping: (earliest.deadline - current + 999_999) / 1_000_000)
        } else {
            timeout = -1
        }
        let count = clinux_epoll_wait(epollFD, events, Int32(maxEvents), timeout)
        now = monotonicNanoseconds()
        iteration &+= 1
        if count > 0 {
            for i in 0..<Int(count) {
                let event = events + i
                let data = clinux_epoll_event_data(event)
                if data == UInt64.max {
                    drainWakeFD()
                    continue
                }
                let fd = Int(UInt32(truncatingIfNeeded: data))
                let generation = UInt32(truncatingIfNeeded: data >> 32)
                guard fd < handlers.count, handlers[fd].generation == generation,
                    let handler = handlers[fd].handler
                else { continue }
                handler.handleIO(IOEvents(rawValue: clinux_epoll_event_mask(event)))
            }
        }
        runTimers()
        runDeferred()
        runTasks()
    }

    private func runTimers() {
        while let timer = timers.popExpired(now: now) {
            timer.handler?.timerFired(timer)
        }
    }

    private func runDeferred() {
        guard !deferred.isEmpty else { return }
        swap(&deferred, &deferredSpare)
        for handler in deferredSpare { handler.runDeferred() }
        deferredSpare.removeAll(keepingCapacity: true)
    }

    private func runTasks() {
        // Always through the lock (uncontended, cheap): an atomic "has tasks" flag checked
        // first would race with `wake()`'s pending flag and could leave a task unseen while
        // the loop sleeps.
        let pending = tasks.withLock { queue -> [@Sendable () -> Void] in
            if queue.isEmpty { return [] }
            let taken = queue
            queue.removeAll(keepingCapacity: true)
            return taken
        }
        for task in pending { task() }
    }

    private func drainWakeFD() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { Glibc.read(wakeFD, $0.baseAddress, 8) }
        wakePending.store(false, ordering: .releasing)
    }
}
