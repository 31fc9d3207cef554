import Dispatch
import PorticoTesting
import Reactor
import Testing

@testable import GatewayRuntime

/// The per-loop socket buffer free list: reused per request, and only a small reserve kept
/// once traffic has stopped needing the rest (docs/performance.md, "Memory per idle
/// connection").
@Suite(.timeLimit(.minutes(1))) struct BufferPoolTests {
    private static let millisecond: UInt64 = 1_000_000

    private func pool(reserve: Int = 2) throws -> BufferPool {
        BufferPool(
            capacity: 64 * 1024, loop: try EventLoop(), reserve: reserve, releaseAfterMilliseconds: 100)
    }

    @Test func reusesAGivenBackBufferWithoutMappingAnother() throws {
        let pool = try pool()
        let first = pool.take()
        first.storeBytes(of: 7, toByteOffset: 0, as: UInt8.self)
        pool.give(first, now: 0)
        let second = pool.take()
        #expect(second.baseAddress == first.baseAddress)
        #expect(pool.mappedCount == 1)
        pool.give(second, now: 0)
    }

    @Test func unmapsBuffersBeyondTheReserveOnceUnusedForTheDelay() throws {
        let pool = try pool(reserve: 2)
        let buffers = (0..<5).map { _ in pool.take() }
        for buffer in buffers { pool.give(buffer, now: 1_000 * Self.millisecond) }
        #expect(pool.freeCount == 5)
        pool.releaseUnused(now: 1_099 * Self.millisecond)
        #expect(pool.freeCount == 5)
        pool.releaseUnused(now: 1_100 * Self.millisecond)
        #expect(pool.freeCount == 2)
        #expect(pool.mappedCount == 2)
    }

    @Test func keepsWhatWasNeededDuringTheDelay() throws {
        // Four buffers given back at 0 ms; at 60 ms two are taken and given back again. At
        // 100 ms the two that nobody needed are due: one goes, one stays as the cushion (half
        // the two in use at the peak). At 160 ms nothing has been in use for 100 ms: all go.
        let pool = try pool(reserve: 0)
        let buffers = (0..<4).map { _ in pool.take() }
        for buffer in buffers { pool.give(buffer, now: 0) }
        let again = (0..<2).map { _ in pool.take() }
        for buffer in again { pool.give(buffer, now: 60 * Self.millisecond) }
        pool.releaseUnused(now: 100 * Self.millisecond)
        #expect(pool.freeCount == 3)
        #expect(pool.mappedCount == 3)
        let top = pool.take()
        #expect(top.baseAddress == again[1].baseAddress)
        pool.give(top, now: 60 * Self.millisecond)
        pool.releaseUnused(now: 160 * Self.millisecond)
        #expect(pool.freeCount == 0)
        #expect(pool.mappedCount == 0)
    }

    /// Half the most buffers in use during the delay stays free as a cushion against
    /// the swings of the next iterations; once none were in use for the delay, only the
    /// reserve stays.
    @Test func keepsACushionWhileBuffersAreInUse() throws {
        let pool = try pool(reserve: 2)
        var buffers = (0..<100).map { _ in pool.take() }
        for buffer in buffers.suffix(40) { pool.give(buffer, now: 0) }
        buffers.removeLast(40)
        pool.releaseUnused(now: 100 * Self.millisecond)
        #expect(pool.freeCount == 30)
        for buffer in buffers { pool.give(buffer, now: 200 * Self.millisecond) }
        pool.releaseUnused(now: 300 * Self.millisecond)
        #expect(pool.freeCount == 2)
        #expect(pool.mappedCount == 2)
    }

    /// However many requests were in flight, what they give back stays for reuse until the
    /// delay: a fixed cap would unmap and map again per request under that load.
    @Test func keepsAnyNumberGivenBackUntilTheDelay() throws {
        let pool = try pool(reserve: 1)
        let buffers = (0..<300).map { _ in pool.take() }
        for buffer in buffers { pool.give(buffer, now: 0) }
        #expect(pool.freeCount == 300)
        let again = (0..<300).map { _ in pool.take() }
        #expect(Set(again.map(\.baseAddress)) == Set(buffers.map(\.baseAddress)))
        #expect(pool.mappedCount == 300)
        for buffer in again { pool.give(buffer, now: 10 * Self.millisecond) }
        pool.releaseUnused(now: 110 * Self.millisecond)
        #expect(pool.freeCount == 1)
        #expect(pool.mappedCount == 1)
    }

    /// A burst of concurrent requests takes many buffers; once it is over and the
    /// connections sit idle, the worker keeps no more than its reserve mapped.
    @Test func burstLeavesOnlyTheReserveMapped() throws {
        let upstream = try FakeUpstream(handler: .echo)
        let gateway = try GatewayHarness.simple(upstream)
        let clients = try (0..<48).map { _ in try gateway.client() }
        for (index, client) in clients.enumerated() { try client.sendRequest(path: "/burst/\(index)") }
        for client in clients { #expect(try client.readResponse().status == 200) }
        let bound = try #require(gateway.server.workerLoops.first)
        func counts() -> (mapped: Int, free: Int) {
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var result = (mapped: 0, free: 0)
            bound.loop.execute {
                let buffers = bound.value.buffers
                result = (buffers.mappedCount, buffers.freeCount)
                done.signal()
            }
            done.wait()
            return result
        }
        try waitUntil("only the reserve mapped") {
            let now = counts()
            return now.mapped <= 8 && now.free == now.mapped
        }
        withExtendedLifetime(clients) {}
    }
}
