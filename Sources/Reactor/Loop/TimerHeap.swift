/// A binary min-heap of timers keyed by deadline, with O(log n) removal (each timer knows its index).
struct TimerHeap {
    private var timers: [LoopTimer] = []

    var isEmpty: Bool { timers.isEmpty }
    var count: Int { timers.count }
    var earliest: LoopTimer? { timers.first }

    mutating func insert(_ timer: LoopTimer) {
        precondition(timer.heapIndex < 0, "timer already scheduled")
        timer.heapIndex = timers.count
        timers.append(timer)
        siftUp(timers.count - 1)
    }

    mutating func remove(_ timer: LoopTimer) {
        let index = timer.heapIndex
        precondition(index >= 0 && index < timers.count && timers[index] === timer, "timer not in this heap")
        let last = timers.count - 1
        if index != last {
            timers.swapAt(index, last)
            timers[index].heapIndex = index
        }
        timers.removeLast()
        timer.heapIndex = -1
        if index < timers.count {
            siftDown(index)
            siftUp(index)
        }
    }

    /// Removes and returns the earliest timer if its deadline is at or before `now`.
    mutating func popExpired(now: UInt64) -> LoopTimer? {
        guard let first = timers.first, first.deadline <= now else { return nil }
        remove(first)
        return first
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            if timers[parent].deadline <= timers[child].deadline { break }
            timers.swapAt(parent, child)
            timers[parent].heapIndex = parent
            timers[child].heapIndex = child
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = timers.count
        while true {
            let left = 2 * parent + 1
            if left >= count { break }
            var smallest = left
            let right = left + 1
            if right < count && timers[right].deadline < timers[left].deadline { smallest = right }
            if timers[parent].deadline <= timers[smallest].deadline { break }
            timers.swapAt(parent, smallest)
            timers[parent].heapIndex = parent
            timers[smallest].heapIndex = smallest
            parent = smallest
        }
    }
}
