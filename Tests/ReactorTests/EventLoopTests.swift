import Glibc
import Synchronization
import Testing

@testable import Reactor

private final class TimerProbe: TimerHandler {
    let fired: @Sendable (Int) -> Void
    init(fired: @escaping @Sendable (Int) -> Void) { self.fired = fired }
    func timerFired(_ timer: LoopTimer) { fired(timer.tag) }
}

private final class EchoOnce: IOHandler {
    let fd: Int32
    let loop: EventLoop
    let done: @Sendable ([UInt8]) -> Void
    var buffer: [UInt8] = []

    init(fd: Int32, loop: EventLoop, done: @escaping @Sendable ([UInt8]) -> Void) {
        self.fd = fd
        self.loop = loop
        self.done = done
    }

    func handleIO(_ events: IOEvents) {
        var chunk = [UInt8](repeating: 0, count: 64)
        while true {
            let result = try? chunk.withUnsafeMutableBytes { try Socket.read(fd, into: $0) }
            guard case .processed(let count)? = result, count > 0 else { break }
            buffer.append(contentsOf: chunk[0..<count])
        }
        if buffer.count >= 5 {
            loop.deregister(fd)
            closeDescriptor(fd)
            done(buffer)
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct EventLoopTests {
    /// Runs a loop on its own thread for the duration of `body`.
    private func withRunningLoop(_ body: (EventLoop) throws -> Void) throws {
        let loop = try EventLoop()
        let thread = LoopThread.start { loop.run() }
        defer {
            loop.stop()
            thread.join()
        }
        try body(loop)
    }

    @Test func runsTasksPostedFromOtherThreads() throws {
        try withRunningLoop { loop in
            let done = Mutex<[Int]>([])
            let finished = Atomic<Bool>(false)
            for index in 0..<100 {
                loop.execute {
                    done.withLock { $0.append(index) }
                    if index == 99 { finished.store(true, ordering: .releasing) }
                }
            }
            while !finished.load(ordering: .acquiring) { sched_yield() }
            #expect(done.withLock { $0 } == Array(0..<100))
        }
    }

    @Test func firesTimersInDeadlineOrderAndSkipsCancelledOnes() throws {
        try withRunningLoop { loop in
            let fired = Mutex<[Int]>([])
            let finished = Atomic<Bool>(false)
            let probe = TimerProbe { tag in
                fired.withLock { $0.append(tag) }
                if tag == 3 { finished.store(true, ordering: .releasing) }
            }
            let holder = LoopBound(probe, loop: loop)
            loop.execute {
                let probe = holder.value
                let timers = (0..<4).map { LoopTimer(handler: probe, tag: $0) }
                loop.schedule(timers[3], inMilliseconds: 30)
                loop.schedule(timers[1], inMilliseconds: 10)
                loop.schedule(timers[2], inMilliseconds: 20)
                loop.schedule(timers[0], inMilliseconds: 5)
                loop.cancel(timers[2])
                // The timers must outlive this task; the handler keeps them via the heap.
                _ = timers
            }
            withExtendedLifetime(probe) {
                while !finished.load(ordering: .acquiring) { sched_yield() }
            }
            #expect(fired.withLock { $0 } == [0, 1, 3])
        }
    }

    @Test func deliversSocketReadinessToHandlers() throws {
        var pair: [Int32] = [0, 0]
        #expect(
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &pair) == 0)
        try withRunningLoop { loop in
            let received = Mutex<[UInt8]?>(nil)
            let reader = pair[0]
            loop.execute {
                let handler = EchoOnce(fd: reader, loop: loop) { bytes in received.withLock { $0 = bytes } }
                try? loop.register(reader, handler: handler)
            }
            let message: [UInt8] = Array("hello".utf8)
            _ = message.withUnsafeBytes { write(pair[1], $0.baseAddress, $0.count) }
            while received.withLock({ $0 }) == nil { sched_yield() }
            #expect(received.withLock { $0 } == message)
        }
        close(pair[1])
    }
}
