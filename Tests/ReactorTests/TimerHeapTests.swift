import Testing

@testable import Reactor

private final class Recorder: TimerHandler {
    var fired: [Int] = []
    func timerFired(_ timer: LoopTimer) { fired.append(timer.tag) }
}

@Suite struct TimerHeapTests {
    @Test func popsTimersInDeadlineOrder() {
        let recorder = Recorder()
        var heap = TimerHeap()
        let deadlines: [UInt64] = [50, 10, 40, 30, 20, 60, 5]
        let timers = deadlines.enumerated().map { index, deadline -> LoopTimer in
            let timer = LoopTimer(handler: recorder, tag: index)
            timer.deadline = deadline
            return timer
        }
        for timer in timers { heap.insert(timer) }
        heap.remove(timers[3])  // deadline 30
        var order: [UInt64] = []
        while let timer = heap.popExpired(now: 100) { order.append(timer.deadline) }
        #expect(order == [5, 10, 20, 40, 50, 60])
        #expect(!timers[3].isScheduled)
    }

    @Test func keepsTimersThatAreNotDue() {
        let recorder = Recorder()
        var heap = TimerHeap()
        let timer = LoopTimer(handler: recorder)
        timer.deadline = 200
        heap.insert(timer)
        #expect(heap.popExpired(now: 100) == nil)
        #expect(heap.count == 1)
    }
}
