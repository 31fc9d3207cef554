import Reactor

/// A per-loop free list of socket buffers of one size, so the buffers that connections take
/// and give back around every request are recycled instead of allocated (idle connections
/// still hold none). Loop-confined.
///
/// Buffers are mapped pages (`PageMemory`), not malloc memory, and the free list keeps only
/// what recent traffic needed (docs/performance.md, "Memory per idle connection"), so the
/// pages of a burst's buffers leave the process once it is over. The list is a stack, newest
/// on top: the buffers at its bottom that nobody took for the release delay (250 ms) are what
/// the peak of that time left free, and they are unmapped but for the reserve (8) and a
/// cushion of half of that peak. The cushion absorbs the swings of the number in use from
/// one loop iteration to the next, which would otherwise map buffers again at every new high:
/// steady traffic maps nothing per request (a buffer or so per thousand requests at 1024
/// connections on one worker, docs/performance.md). There is no fixed cap on
/// the list either: with more requests in flight than a cap, buffers given back beyond it
/// would be unmapped and mapped again moments later, two system calls and a page fault each.
final class BufferPool: TimerHandler {
    let capacity: Int
    private let loop: EventLoop
    /// Free buffers kept however long they stay unused.
    private let reserve: Int
    /// How long a free buffer stays unused before it may be unmapped.
    private let releaseAfterNanoseconds: UInt64
    /// Free buffers and when each was given back (monotonic ns), oldest first: `freeSlots`
    /// slots, the first `freeCount` used. Raw storage rather than an array, so taking and
    /// giving, four times per proxied request, never check uniqueness (it grows, rarely,
    /// when a give finds it full).
    private var free: UnsafeMutablePointer<FreeBuffer>
    private var freeSlots: Int
    /// Free buffers on the list now.
    private(set) var freeCount = 0
    /// Fires when the oldest free buffer beyond the reserve is due for release.
    private let releaseTimer = LoopTimer()
    private var isReleaseScheduled = false
    /// Buffers mapped and not unmapped (in use or free), for tests.
    private(set) var mappedCount = 0

    private struct FreeBuffer {
        let address: UnsafeMutableRawPointer
        let givenAt: UInt64
    }

    init(capacity: Int, loop: EventLoop, reserve: Int = 8, releaseAfterMilliseconds: Int = 250) {
        self.capacity = capacity
        self.loop = loop
        self.reserve = reserve
        self.freeSlots = max(64, reserve)
        self.free = .allocate(capacity: freeSlots)
        self.releaseAfterNanoseconds = UInt64(max(0, releaseAfterMilliseconds)) * 1_000_000
        releaseTimer.handler = self
    }

    deinit {
        loop.cancel(releaseTimer)
        for index in 0..<freeCount { PageMemory.unmap(free[index].address, byteCount: capacity) }
        free.deallocate()
    }

    func take() -> UnsafeMutableRawBufferPointer {
        guard freeCount > 0 else { return UnsafeMutableRawBufferPointer(start: map(), count: capacity) }
        freeCount &-= 1
        return UnsafeMutableRawBufferPointer(start: free[freeCount].address, count: capacity)
    }

    @inline(never)
    private func map() -> UnsafeMutableRawPointer {
        mappedCount += 1
        return PageMemory.map(byteCount: capacity)
    }

    /// Takes back a buffer that `take()` returned.
    @inline(__always)
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        give(buffer, now: loop.now)
    }

    /// `give` at a given time (monotonic ns; tests).
    @inline(__always)
    func give(_ buffer: UnsafeMutableRawBufferPointer, now: UInt64) {
        assert(buffer.count == capacity, "a buffer of another pool")
        if freeCount == freeSlots { growFreeList() }
        (free + freeCount).initialize(to: FreeBuffer(address: buffer.baseAddress!, givenAt: now))
        freeCount &+= 1
        if freeCount > reserve && !isReleaseScheduled { scheduleRelease(now: now) }
    }

    @inline(never)
    private func growFreeList() {
        let grown = UnsafeMutablePointer<FreeBuffer>.allocate(capacity: freeSlots * 2)
        grown.moveInitialize(from: free, count: freeCount)
        free.deallocate()
        free = grown
        freeSlots *= 2
    }

    /// Arms the release timer for when the oldest free buffer is due, or a delay from now if
    /// it is due already (the cushion kept it). An armed timer is never later than needed:
    /// the bottom of the list only changes to a newer buffer until the timer fires.
    @inline(never)
    private func scheduleRelease(now: UInt64) {
        isReleaseScheduled = true
        let due = free[0].givenAt &+ releaseAfterNanoseconds
        loop.schedule(releaseTimer, at: due > now ? due : now &+ releaseAfterNanoseconds)
    }

    /// Unmaps free buffers that nothing took for the whole delay, keeping the reserve and a
    /// cushion of half the most buffers in use during that time. The buffers at the
    /// bottom of the stack that nothing took for the delay are exactly what that peak left
    /// free, so the peak is the mapped count minus theirs. Under load the number in use swings
    /// between loop iterations; without the cushion every new high after a release would map
    /// buffers again. Once nothing has been in use for the delay, only the reserve stays.
    func timerFired(_ timer: LoopTimer) {
        isReleaseScheduled = false
        releaseUnused(now: loop.now)
    }

    /// `timerFired` with the time given (tests).
    func releaseUnused(now: UInt64) {
        var unused = 0
        while unused < freeCount && free[unused].givenAt &+ releaseAfterNanoseconds <= now { unused += 1 }
        let peakInUse = mappedCount - unused
        let released = unused - max(reserve, peakInUse / 2)
        if released > 0 {
            for index in 0..<released { unmap(free[index].address) }
            freeCount -= released
            // A trivial type, moved down with memmove (the ranges may overlap).
            UnsafeMutableRawPointer(free).copyMemory(
                from: free + released, byteCount: freeCount * MemoryLayout<FreeBuffer>.stride)
        }
        if freeCount > reserve && !isReleaseScheduled { scheduleRelease(now: now) }
    }

    @inline(never)
    private func unmap(_ address: UnsafeMutableRawPointer) {
        PageMemory.unmap(address, byteCount: capacity)
        mappedCount -= 1
    }
}
