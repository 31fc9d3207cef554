import Glibc
import Synchronization

/// A one-shot gate between a test and a scripted server: handlers wait on it, the test opens it.
///
/// Backed by a socket pair, so a `FakeConnectionWriter` can wait for the latch and for its upstream's
/// stop at once. Once open it stays open.
package final class TestLatch: Sendable {
    /// Readable once the latch is open.
    let readFd: Int32
    private let writeFd: Int32
    private let opened = Mutex(false)

    /// Creates a closed latch; throws if the system is out of descriptors.
    package init() throws {
        (readFd, writeFd) = try LoopbackSocket.makeSocketPair()
    }

    deinit {
        Glibc.close(readFd)
        Glibc.close(writeFd)
    }

    /// Opens the latch, releasing every current and future waiter; idempotent.
    package func open() {
        let first = opened.withLock { wasOpen in
            defer { wasOpen = true }
            return !wasOpen
        }
        if first {
            var byte: UInt8 = 1
            _ = write(writeFd, &byte, 1)
        }
    }

    /// Whether `open()` has been called.
    package var isOpen: Bool { opened.withLock { $0 } }

    /// Blocks until the latch is open; throws `TestingError.timedOut` after `timeout`.
    package func wait(timeout: Duration = .seconds(5)) throws {
        if try waitForEvents(readFd, POLLIN, deadline: .after(timeout)) == .timedOut {
            throw TestingError.timedOut("latch still closed after \(timeout.testDescription)")
        }
    }
}
