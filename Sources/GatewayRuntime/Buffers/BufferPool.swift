import Reactor

/// A per-loop free list of socket buffers of one size, so the buffers that connections take
/// and give back around every request are recycled instead of allocated (idle connections
/// still hold none). Loop-confined.
///
/// Buffers are mapped pages (`PageMemory`), not malloc memory, and the free list keeps only
/// what recent traffic needed (docs/performance.md, "Memory per idle connection"): beyond a
/// small reserve, a buffer that stays on the list for `releaseAfterNanoseconds` is unmapped,
/// so its pages leave the process instead of staying resident after a burst. The list is a
/// stack, newest on top: a buffer at the bottom has not been needed since it was given back.
/// Under steady traffic the list's low-water mark is exactly what goes, and nothing is mapped
/// or unmapped per request.
final class BufferPool: TimerHandler {
    let capacity: Int
    private let loop: EventLoop
    /// Free buffers kept however long they stay unused.
    private let reserve: Int
    /// The most free buffers kept at all; beyond that, a buffer given back is unmapped at once.
    private let maxFree: Int
    private let releaseAfterNanoseconds: UInt64
    /// Free buffers and when each was given back (monotonic ns), oldest first: `maxFree`
    /// slots, the first `freeCount` used. Raw storage rather than an array, so taking and
    /// giving, four times per proxied request, never check uniqueness or capacity.
    private let free: UnsafeMutablePointer<FreeBuffer>
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

    init(
        capacity: Int, loop: EventLoop, reserve: Int = 8, maxFree: Int = 256,
        releaseAfterMilliseconds: Int = 100
    ) {
        self.capacity = capacity
        self.loop = loop
        self.reserve = reserve
        self.maxFree = max(reserve, maxFree, 1)
        self.free = .allocate(capacity: self.maxFree)
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
        guard freeCount < maxFree else {
            unmap(buffer.baseAddress!)
            return
        }
        (free + freeCount).initialize(to: FreeBuffer(address: buffer.baseAddress!, givenAt: now))
        freeCount &+= 1
        if freeCount > reserve && !isReleaseScheduled { scheduleRelease() }
    }

    /// Arms the release timer for the oldest free buffer. An armed timer is never later than
    /// that: the bottom of the list only changes to a newer buffer until the timer fires.
    @inline(never)
    private func scheduleRelease() {
        isReleaseScheduled = true
        loop.schedule(releaseTimer, at: free[0].givenAt &+ releaseAfterNanoseconds)
    }

    /// Unmaps the free buffers beyond the reserve that nothing took for the whole delay.
    func timerFired(_ timer: LoopTimer) {
        isReleaseScheduled = false
        releaseUnused(now: loop.now)
    }

    /// `timerFired` with the time given (tests).
    func releaseUnused(now: UInt64) {
        let surplus = freeCount - reserve
        guard surplus > 0 else { return }
        var released = 0
        while released < surplus && free[released].givenAt &+ releaseAfterNanoseconds <= now {
            unmap(free[released].address)
            released += 1
        }
        if released > 0 {
            freeCount -= released
            // A trivial type, moved down with memmove (the ranges may overlap).
            UnsafeMutableRawPointer(free).copyMemory(
                from: free + released, byteCount: freeCount * MemoryLayout<FreeBuffer>.stride)
        }
        if freeCount > reserve && !isReleaseScheduled { scheduleRelease() }
    }

    @inline(never)
    private func unmap(_ address: UnsafeMutableRawPointer) {
        PageMemory.unmap(address, byteCount: capacity)
        mappedCount -= 1
    }
}
